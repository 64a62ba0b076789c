-- Activities seen by their publisher's and partners' members only, and
-- activities that belong to a mentoring programme (a pair's meetings, the
-- events its people attend). `partners_key` is "|org|org|" for the
-- partners visibility's lookup, empty otherwise.

ALTER TABLE activities ADD COLUMN partners_key TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN programme_id TEXT;
ALTER TABLE activities ADD COLUMN pair_id TEXT;
CREATE INDEX activities_programme ON activities (programme_id) WHERE programme_id IS NOT NULL;

ALTER TABLE mirror_activities ADD COLUMN partners_key TEXT NOT NULL DEFAULT '';
ALTER TABLE mirror_activities ADD COLUMN programme_id TEXT;
ALTER TABLE mirror_activities ADD COLUMN pair_id TEXT;
CREATE INDEX mirror_activities_programme ON mirror_activities (programme_id) WHERE programme_id IS NOT NULL;
