"""Committee fits in the app server run on one OpenMP thread.

The app's fits are tiny (tens to hundreds of rows); on a 2-core machine that also serves the browser, torch's
spinning OpenMP workers made a Step 2x slower at rest and 10-20x slower under load (measured with
benchmarks/bench_app.py). One thread per fit also lets several users step at the same time.
"""

from threadpoolctl import threadpool_limits


def one_thread():
    return threadpool_limits(limits=1, user_api="openmp")
