-- 001_init: the simulation's base tables and seed data (SQLite).
-- Seed rows carry fixed keys and upsert on them, so re-running this script never duplicates a row.

CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    avatar TEXT NULL,
    bio TEXT NULL,
    is_ai INTEGER NOT NULL DEFAULT 0,
    personality TEXT NULL,
    fatigue INTEGER NOT NULL DEFAULT 0,
    x REAL NOT NULL DEFAULT 0,
    y REAL NOT NULL DEFAULT 0,
    current_location_id INTEGER NULL REFERENCES locations (id) ON DELETE SET NULL,
    carrying_capacity INTEGER NOT NULL DEFAULT 10,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_users_username UNIQUE (username)
);

CREATE TABLE IF NOT EXISTS memories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL DEFAULT 'observation' CHECK (kind IN ('observation', 'reflection', 'plan', 'conversation', 'shared')),
    owner_id INTEGER NOT NULL,
    target_user_id INTEGER NULL,
    content TEXT NOT NULL,
    importance INTEGER NOT NULL DEFAULT 5,
    game_day INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_memories_owner FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_memories_target FOREIGN KEY (target_user_id) REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id INTEGER NOT NULL,
    content TEXT NOT NULL,
    image_path TEXT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_posts_author FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id INTEGER NOT NULL,
    author_id INTEGER NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_comments_post FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE,
    CONSTRAINT fk_comments_author FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS post_likes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_post_likes UNIQUE (user_id, post_id),
    CONSTRAINT fk_post_likes_post FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE,
    CONSTRAINT fk_post_likes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS chat_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_by INTEGER NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_chat_groups_creator FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE IF NOT EXISTS chat_group_members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    joined_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_chat_group_members UNIQUE (group_id, user_id),
    CONSTRAINT fk_members_group FOREIGN KEY (group_id) REFERENCES chat_groups (id) ON DELETE CASCADE,
    CONSTRAINT fk_members_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id INTEGER NOT NULL,
    receiver_id INTEGER NULL,
    group_id INTEGER NULL,
    content TEXT NOT NULL,
    is_read INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_messages_sender FOREIGN KEY (sender_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_messages_receiver FOREIGN KEY (receiver_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_messages_group FOREIGN KEY (group_id) REFERENCES chat_groups (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS locations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT NULL,
    x REAL NOT NULL DEFAULT 0,
    y REAL NOT NULL DEFAULT 0,
    width REAL NOT NULL DEFAULT 1,
    height REAL NOT NULL DEFAULT 1,
    CONSTRAINT uq_locations_name UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS game_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'finished', 'cancelled')),
    data TEXT NULL CHECK (data IS NULL OR json_valid(data)),
    game_day INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS image_gen_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id INTEGER NULL,
    prompt TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    result_path TEXT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_image_gen_post FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE SET NULL
);

CREATE TABLE IF NOT EXISTS inventory (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL,
    item_name TEXT NOT NULL,
    quantity INTEGER NOT NULL DEFAULT 1,
    properties TEXT NULL CHECK (properties IS NULL OR json_valid(properties)),
    CONSTRAINT fk_inventory_owner FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS ix_users_is_ai ON users (is_ai);
CREATE INDEX IF NOT EXISTS ix_memories_owner_day ON memories (owner_id, game_day);
CREATE INDEX IF NOT EXISTS ix_posts_created ON posts (created_at);
CREATE INDEX IF NOT EXISTS ix_comments_post ON comments (post_id, created_at);
CREATE INDEX IF NOT EXISTS ix_messages_private ON messages (sender_id, receiver_id, created_at);
CREATE INDEX IF NOT EXISTS ix_messages_group ON messages (group_id, created_at);
CREATE INDEX IF NOT EXISTS ix_game_events_status ON game_events (status);
CREATE INDEX IF NOT EXISTS ix_image_gen_queue_status ON image_gen_queue (status);
CREATE INDEX IF NOT EXISTS ix_inventory_owner ON inventory (owner_id);

-- Seed data: fixed keys, and "or ignore" keeps a re-run from changing or duplicating anything.
INSERT OR IGNORE INTO locations (id, name, description, x, y, width, height) VALUES
    (1, 'Town Square', 'The heart of the town; everyone passes through.', 50, 50, 20, 20),
    (2, 'Cafe', 'Coffee, gossip and a piano nobody plays.', 20, 70, 8, 6),
    (3, 'Library', 'Quiet shelves and a reading room.', 80, 30, 10, 8),
    (4, 'Park', 'Trees, a pond and benches.', 60, 90, 25, 15);

INSERT OR IGNORE INTO users (id, username, avatar, bio, is_ai, personality, x, y, current_location_id) VALUES
    (1, 'alice', 'avatars/alice.png', 'Barista who remembers every order.', 1, 'warm, curious, talkative', 20, 70, 2),
    (2, 'bob', 'avatars/bob.png', 'Librarian and amateur astronomer.', 1, 'quiet, precise, kind', 80, 30, 3),
    (3, 'carol', 'avatars/carol.png', 'Painter looking for inspiration.', 1, 'dreamy, impulsive, generous', 60, 90, 4);

INSERT OR IGNORE INTO memories (id, kind, owner_id, target_user_id, content, importance, game_day) VALUES
    (1, 'shared', 1, 2, 'Alice and Bob met at the town square festival.', 7, 1),
    (2, 'shared', 2, 1, 'Bob lent Alice a book about the stars.', 6, 1),
    (3, 'observation', 3, NULL, 'The pond in the park reflects the sunset beautifully.', 4, 1);
