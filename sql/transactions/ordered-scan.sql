-- name: transactions.ordered_scan
-- For the rest of the transaction, a page read in key order walks an index in that order
-- rather than sorting what a bitmap scan found: an install's row count is often far above
-- the planner's estimate (one just imported, not yet analysed; one of many thousands of
-- installs, not among the most common values), and with the estimate of a few rows a
-- bitmap scan and top-N sort of every row after the position looks cheaper. On an install
-- of 100,000 rows without fresh statistics that was 130–400 ms a page of 1,000 instead of
-- about 1 ms (records.export), so an export took 15–20 s. An incremental sort is discouraged
-- too: with the namespace index's prefix sorted, the planner otherwise preferred walking that
-- index and sorting each namespace's keys (seen on a generic plan with 20,000 rows in three
-- namespaces). All are only discouraged: a plan that needs a sort still gets one.
-- returns: one row, the settings' new values: sort, bitmapscan, incremental_sort
select set_config('enable_sort', 'off', true) as sort, set_config('enable_bitmapscan', 'off', true) as bitmapscan,
       set_config('enable_incremental_sort', 'off', true) as incremental_sort
