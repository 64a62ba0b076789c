-- Activities held at several venues at once: the venue a registration
-- holds its seats at (the venues themselves are in the activity's details).
ALTER TABLE registrations ADD COLUMN venue BIGINT;
