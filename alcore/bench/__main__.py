from alcore.bench import main

raise SystemExit(main())
