-- 002_action_logs: what each AI character did, why, and what the LLM said (MySQL / MariaDB).

CREATE TABLE IF NOT EXISTS action_logs (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    character_id INT NOT NULL,
    action_type VARCHAR(32) NOT NULL,
    action_name VARCHAR(128) NOT NULL,
    description TEXT NULL,
    location_id INT NULL,
    target_character_id INT NULL,
    game_day INT NOT NULL DEFAULT 1,
    game_time VARCHAR(8) NULL,
    duration_minutes INT NOT NULL DEFAULT 0,
    decision_reason TEXT NULL,
    result TEXT NULL,
    llm_prompt MEDIUMTEXT NULL,
    llm_response MEDIUMTEXT NULL,
    extra_data JSON NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_action_logs_character FOREIGN KEY (character_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_action_logs_location FOREIGN KEY (location_id) REFERENCES locations (id) ON DELETE SET NULL,
    CONSTRAINT fk_action_logs_target FOREIGN KEY (target_character_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The usual lookups: a character's timeline, by type, by place, by game day.
CREATE INDEX ix_action_logs_character_created ON action_logs (character_id, created_at);
CREATE INDEX ix_action_logs_type ON action_logs (action_type);
CREATE INDEX ix_action_logs_location ON action_logs (location_id);
CREATE INDEX ix_action_logs_game_day ON action_logs (game_day, game_time);
