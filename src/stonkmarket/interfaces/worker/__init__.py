"""Job runs: the taskiq tasks, the worker and the scheduler."""
