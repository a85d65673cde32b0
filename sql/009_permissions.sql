-- 009_permissions.sql: per-resource permissions as MLflow's auth plugin has
-- them: READ < EDIT < MANAGE per experiment and per registered model, for a
-- user; NO_PERMISSIONS denies. Without a row a user has default_permission
-- (configuration); admins bypass; runs inherit their experiment's.
BEGIN;

CREATE TABLE experiment_permissions (
	experiment_id  bigint NOT NULL REFERENCES experiments ON DELETE CASCADE,
	user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	permission     text NOT NULL CHECK (permission IN ('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')),
	PRIMARY KEY (experiment_id, user_id)
);

CREATE TABLE registered_model_permissions (
	name        text NOT NULL REFERENCES registered_models (name) ON DELETE CASCADE ON UPDATE CASCADE,
	user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	permission  text NOT NULL CHECK (permission IN ('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')),
	PRIMARY KEY (name, user_id)
);

-- Creators so far manage what they created.
INSERT INTO registered_model_permissions (name, user_id, permission)
SELECT name, created_by, 'MANAGE' FROM registered_models WHERE created_by IS NOT NULL;
INSERT INTO experiment_permissions (experiment_id, user_id, permission)
SELECT experiment_id, created_by, 'MANAGE' FROM experiments WHERE created_by IS NOT NULL;

INSERT INTO schema_migrations (version, name) VALUES (9, '009_permissions');
COMMIT;
