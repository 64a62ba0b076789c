-- A forwarded write and its answer now commit in one transaction, so a
-- stored key is always answered. The answer is the write's outcome as JSON
-- (it was the protobuf response before). Rows of the former two-step
-- scheme are dropped: a reservation without an answer was left by a node
-- that stopped mid-write, and an answer in the former encoding cannot be
-- read back.
DELETE FROM forwarded_writes;
