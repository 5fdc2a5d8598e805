"""The grading engine: settings, submission repair, executors, results, records, gradebook."""
