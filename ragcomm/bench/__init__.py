"""Performance and load harnesses behind `ragcomm bench` and `ragcomm load` (an optional
extra: `pip install 'ragcomm[bench]'` adds psutil, matplotlib and gradio_client).

    perf.py    build throughput, per-stage latency, synthetic scale to 1M chunks
    load.py    concurrent clients against a running app on loopback
    launch.py  start and stop the app on a free loopback port (also used by the tests)
"""
