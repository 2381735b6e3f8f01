"""Layer 5, output: what a planner reads. The results folder (CSV, summary.json,
results.xlsx), the terminal summary, and the HTML report with its template and charts."""
