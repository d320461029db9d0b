"""Search the space of measures for the plans best on every count (``straits optimise``).

A study (YAML, validated like a scenario) names decision variables by dotted
path with a cost model each, objectives and constraints on KPI statistics, and
a budget. Candidates run through the experiments executors into the results
store with common random numbers; optuna proposes them (NSGA-II for several
objectives, TPE for one). Chosen plans are re-run with fresh seeds.
"""
