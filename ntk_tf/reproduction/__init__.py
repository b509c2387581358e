"""The reproduction page's science: the papers' claims as data (claims), the four
verdicts and their statistics (verdicts), the papers' sentences and digitized tables
(claim_quotes, paper_tables), run costs from measured times (run_costs) and the
page's figures (figures)."""
