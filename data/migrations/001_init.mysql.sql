-- 001_init: the simulation's base tables and seed data (MySQL / MariaDB).
-- Seed rows carry fixed keys and upsert on them, so re-running this script never duplicates a row.

CREATE TABLE IF NOT EXISTS users (
    id INT AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(64) NOT NULL,
    avatar VARCHAR(255) NULL,
    bio TEXT NULL,
    is_ai BOOLEAN NOT NULL DEFAULT FALSE,
    personality TEXT NULL,
    fatigue INT NOT NULL DEFAULT 0,
    x DOUBLE NOT NULL DEFAULT 0,
    y DOUBLE NOT NULL DEFAULT 0,
    current_location_id INT NULL,
    carrying_capacity INT NOT NULL DEFAULT 10,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    UNIQUE KEY uq_users_username (username),
    KEY ix_users_is_ai (is_ai)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS memories (
    id INT AUTO_INCREMENT PRIMARY KEY,
    kind ENUM('observation', 'reflection', 'plan', 'conversation', 'shared') NOT NULL DEFAULT 'observation',
    owner_id INT NOT NULL,
    target_user_id INT NULL,
    content TEXT NOT NULL,
    importance TINYINT NOT NULL DEFAULT 5,
    game_day INT NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY ix_memories_owner_day (owner_id, game_day),
    CONSTRAINT fk_memories_owner FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_memories_target FOREIGN KEY (target_user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS posts (
    id INT AUTO_INCREMENT PRIMARY KEY,
    author_id INT NOT NULL,
    content TEXT NOT NULL,
    image_path VARCHAR(255) NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY ix_posts_created (created_at),
    CONSTRAINT fk_posts_author FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS comments (
    id INT AUTO_INCREMENT PRIMARY KEY,
    post_id INT NOT NULL,
    author_id INT NOT NULL,
    content TEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY ix_comments_post (post_id, created_at),
    CONSTRAINT fk_comments_post FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE,
    CONSTRAINT fk_comments_author FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS post_likes (
    id INT AUTO_INCREMENT PRIMARY KEY,
    post_id INT NOT NULL,
    user_id INT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE KEY uq_post_likes (user_id, post_id),
    CONSTRAINT fk_post_likes_post FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE,
    CONSTRAINT fk_post_likes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS chat_groups (
    id INT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    created_by INT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_chat_groups_creator FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS chat_group_members (
    id INT AUTO_INCREMENT PRIMARY KEY,
    group_id INT NOT NULL,
    user_id INT NOT NULL,
    joined_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE KEY uq_chat_group_members (group_id, user_id),
    CONSTRAINT fk_members_group FOREIGN KEY (group_id) REFERENCES chat_groups (id) ON DELETE CASCADE,
    CONSTRAINT fk_members_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS messages (
    id INT AUTO_INCREMENT PRIMARY KEY,
    sender_id INT NOT NULL,
    receiver_id INT NULL,
    group_id INT NULL,
    content TEXT NOT NULL,
    is_read BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY ix_messages_private (sender_id, receiver_id, created_at),
    KEY ix_messages_group (group_id, created_at),
    CONSTRAINT fk_messages_sender FOREIGN KEY (sender_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_messages_receiver FOREIGN KEY (receiver_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_messages_group FOREIGN KEY (group_id) REFERENCES chat_groups (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS locations (
    id INT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    description TEXT NULL,
    x DOUBLE NOT NULL DEFAULT 0,
    y DOUBLE NOT NULL DEFAULT 0,
    width DOUBLE NOT NULL DEFAULT 1,
    height DOUBLE NOT NULL DEFAULT 1,
    UNIQUE KEY uq_locations_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS game_events (
    id INT AUTO_INCREMENT PRIMARY KEY,
    event_type VARCHAR(64) NOT NULL,
    status ENUM('pending', 'active', 'finished', 'cancelled') NOT NULL DEFAULT 'pending',
    data JSON NULL,
    game_day INT NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY ix_game_events_status (status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS image_gen_queue (
    id INT AUTO_INCREMENT PRIMARY KEY,
    post_id INT NULL,
    prompt TEXT NOT NULL,
    status ENUM('queued', 'running', 'done', 'failed') NOT NULL DEFAULT 'queued',
    result_path VARCHAR(255) NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY ix_image_gen_queue_status (status),
    CONSTRAINT fk_image_gen_post FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS inventory (
    id INT AUTO_INCREMENT PRIMARY KEY,
    owner_id INT NOT NULL,
    item_name VARCHAR(128) NOT NULL,
    quantity INT NOT NULL DEFAULT 1,
    properties JSON NULL,
    KEY ix_inventory_owner (owner_id),
    CONSTRAINT fk_inventory_owner FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- users -> locations can only be added once locations exists; re-running it is tolerated (duplicate key name).
ALTER TABLE users ADD CONSTRAINT fk_users_location FOREIGN KEY (current_location_id) REFERENCES locations (id) ON DELETE SET NULL;

-- Seed data: fixed keys, and "on duplicate key" keeps a re-run from changing or duplicating anything.
INSERT INTO locations (id, name, description, x, y, width, height) VALUES
    (1, 'Town Square', 'The heart of the town; everyone passes through.', 50, 50, 20, 20),
    (2, 'Cafe', 'Coffee, gossip and a piano nobody plays.', 20, 70, 8, 6),
    (3, 'Library', 'Quiet shelves and a reading room.', 80, 30, 10, 8),
    (4, 'Park', 'Trees, a pond and benches.', 60, 90, 25, 15)
ON DUPLICATE KEY UPDATE id = id;

INSERT INTO users (id, username, avatar, bio, is_ai, personality, x, y, current_location_id) VALUES
    (1, 'alice', 'avatars/alice.png', 'Barista who remembers every order.', TRUE, 'warm, curious, talkative', 20, 70, 2),
    (2, 'bob', 'avatars/bob.png', 'Librarian and amateur astronomer.', TRUE, 'quiet, precise, kind', 80, 30, 3),
    (3, 'carol', 'avatars/carol.png', 'Painter looking for inspiration.', TRUE, 'dreamy, impulsive, generous', 60, 90, 4)
ON DUPLICATE KEY UPDATE id = id;

INSERT INTO memories (id, kind, owner_id, target_user_id, content, importance, game_day) VALUES
    (1, 'shared', 1, 2, 'Alice and Bob met at the town square festival.', 7, 1),
    (2, 'shared', 2, 1, 'Bob lent Alice a book about the stars.', 6, 1),
    (3, 'observation', 3, NULL, 'The pond in the park reflects the sunset beautifully.', 4, 1)
ON DUPLICATE KEY UPDATE id = id;
