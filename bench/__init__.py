"""Benchmarks (``peerqa bench ingest|query|load``): they drive ingest, the core and the web app,
so they sit beside ``cli.py`` above all three packages."""
