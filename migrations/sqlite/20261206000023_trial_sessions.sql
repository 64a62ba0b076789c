-- A professional trial's sessions name their trial in the bank: the
-- calendar lists them only while the trial is approved.

ALTER TABLE activities ADD COLUMN trial_id TEXT;
CREATE INDEX activities_trial ON activities (trial_id) WHERE trial_id IS NOT NULL;
ALTER TABLE mirror_activities ADD COLUMN trial_id TEXT;
CREATE INDEX mirror_activities_trial ON mirror_activities (trial_id) WHERE trial_id IS NOT NULL;
