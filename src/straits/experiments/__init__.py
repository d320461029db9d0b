"""Experiments at scale: ensembles, sweeps and sensitivity over many replications.

Every replication goes through :func:`straits.pipeline.simulate`; results stream
into a DuckDB results store as they finish, so a run can be resumed and memory
stays flat however many replications are asked for.
"""
