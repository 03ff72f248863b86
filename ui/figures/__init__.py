"""Plotly figures built by pure functions from alcore results: one module per page, shared styling in ``style``.

pandas is imported here, before any figure can be built. plotly's validators look pandas up in ``sys.modules``
without importing it; while another session's thread is importing pandas (``alcore.datasets`` needs it), they find
the half-initialised module and fail with "partially initialized module 'pandas' has no attribute 'Series'". That
happened when several tabs opened the app at once: one drew its loading placeholder while another loaded its data.
An ``import`` statement, unlike a ``sys.modules`` lookup, waits for a concurrent import of the same module to finish.
"""

import pandas  # noqa: F401  (must be fully imported before plotly validates any figure; see above)
