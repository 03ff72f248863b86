"""Committee fits in the app server run on one OpenMP thread.

The app's fits are tiny (tens to hundreds of rows); on a 2-core machine that also serves the browser, torch's
spinning OpenMP workers made a Step 2x slower at rest and 10-20x slower under load (measured with
benchmarks/bench_app.py). One thread per fit also lets several users step at the same time.
"""

from threadpoolctl import ThreadpoolController


def one_thread():
    """One OpenMP thread for the calling thread (OpenMP limits are per thread). Limited through a controller of the
    OpenMP libraries only: ``threadpool_limits(user_api="openmp")`` also "restores" the process-wide BLAS setting it
    saw on entry, which, while another session's strategy had lowered it, left the server at one BLAS thread."""
    return ThreadpoolController().select(user_api="openmp").limit(limits=1)
