-- A database as slad 0.1.0 of session 1 wrote it (schema version 1), with three tickets
-- (open, resolved, closed), clocks and a pending notification: test-store.c upgrades it to
-- the current schema. Labels are JSON objects as jansson wrote them (escapes, raw UTF-8).
CREATE TABLE tickets ( id INTEGER PRIMARY KEY, source TEXT, external_id TEXT, title TEXT NOT NULL, description TEXT, severity INTEGER NOT NULL, grade TEXT, region TEXT, team TEXT, assignee TEXT, customer_name TEXT, customer_phone TEXT, customer_address TEXT, device_model TEXT, device_serial TEXT, fault_code TEXT, labels TEXT, reported_at_ms INTEGER NOT NULL, appointment_at_ms INTEGER, created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, status TEXT NOT NULL, held_from TEXT NOT NULL, policy TEXT, reopen_count INTEGER NOT NULL DEFAULT 0, repeat_count INTEGER NOT NULL DEFAULT 0, event_last TEXT, reminders_fired INTEGER NOT NULL DEFAULT 0, next_ms INTEGER, UNIQUE (source, external_id));
CREATE INDEX tickets_next ON tickets (next_ms) WHERE next_ms IS NOT NULL;
CREATE INDEX tickets_repeat ON tickets (device_serial, fault_code, reported_at_ms) WHERE device_serial IS NOT NULL AND fault_code IS NOT NULL;
CREATE INDEX tickets_status ON tickets (status);
CREATE INDEX tickets_reported ON tickets (reported_at_ms);
CREATE TABLE clocks ( ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE, name TEXT NOT NULL, pos INTEGER NOT NULL, policy TEXT, state TEXT NOT NULL, target_ms INTEGER NOT NULL, elapsed_ms INTEGER NOT NULL, since_ms INTEGER, started_at_ms INTEGER, stopped_at_ms INTEGER, breached_at_ms INTEGER, due_at_ms INTEGER, paused_breached INTEGER NOT NULL DEFAULT 0, stop_event TEXT, fired TEXT, PRIMARY KEY (ticket_id, name)) WITHOUT ROWID;
CREATE INDEX clocks_state ON clocks (state);
CREATE INDEX clocks_report ON clocks (policy, name, state);
CREATE TABLE history ( id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE, at_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT, late INTEGER NOT NULL DEFAULT 0);
CREATE INDEX history_ticket ON history (ticket_id, id);
CREATE TABLE outbox ( id INTEGER PRIMARY KEY, ticket_id INTEGER REFERENCES tickets (id) ON DELETE CASCADE, event TEXT NOT NULL, channel TEXT, recipient TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL DEFAULT 'pending'  CHECK (state IN ('pending', 'sending', 'sent', 'dead')), attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER, last_error TEXT, payload TEXT, created_ms INTEGER NOT NULL, sent_ms INTEGER);
CREATE INDEX outbox_due ON outbox (state, next_attempt_ms);
CREATE INDEX outbox_ticket ON outbox (ticket_id, id);
INSERT INTO tickets (id, source, external_id, title, severity, team, assignee, labels,
  reported_at_ms, created_at_ms, updated_at_ms, status, held_from, policy, next_ms)
  VALUES (1, 'crm', 'A-1', 'pump', 1, 'north', 'tech',
  '{"zone":"east","vip":"say \"gold\"\nnow","区域":"华北","note":""}', 1772438400000,
  1772438400000, 1772438400000, 'open', 'open', 'fast', 1772442000000);
INSERT INTO tickets (id, source, external_id, title, severity, team, labels, reported_at_ms,
  created_at_ms, updated_at_ms, status, held_from, policy)
  VALUES (2, 'crm', 'A-2', 'fan', 3, 'south', '{"caf\u00e9":"x"}', 1772438500000,
  1772438500000, 1772439000000, 'resolved', 'open', 'slow');
INSERT INTO tickets (id, source, external_id, title, severity, team, reported_at_ms,
  created_at_ms, updated_at_ms, status, held_from, policy, event_last)
  VALUES (3, 'crm', 'A-3', 'door', 3, 'south', 1772438600000, 1772438600000, 1772439600000,
  'closed', 'open', 'slow', 'resolve=1772439000000;close=1772439500000');
INSERT INTO clocks (ticket_id, name, pos, policy, state, target_ms, elapsed_ms, since_ms,
  started_at_ms, breached_at_ms, due_at_ms, fired)
  VALUES (1, 'response', 0, 'fast', 'breached', 3600000, 3600000, 1772438400000,
  1772438400000, 1772442000000, 1772442000000, '1');
INSERT INTO clocks (ticket_id, name, pos, policy, state, target_ms, elapsed_ms, since_ms,
  started_at_ms, due_at_ms)
  VALUES (1, 'resolution', 1, 'fast', 'running', 86400000, 0, 1772438400000, 1772438400000,
  1772524800000);
INSERT INTO clocks (ticket_id, name, pos, policy, state, target_ms, elapsed_ms,
  started_at_ms, stopped_at_ms, due_at_ms, stop_event)
  VALUES (2, 'resolution', 0, 'slow', 'met', 86400000, 500000, 1772438500000, 1772439000000,
  1772524900000, 'resolve');
INSERT INTO history (ticket_id, at_ms, created_ms, kind, data)
  VALUES (1, 1772438400000, 1772438400000, 'create', '{}');
INSERT INTO outbox (ticket_id, event, channel, recipient, idempotency_key, state,
  next_attempt_ms, payload, created_ms)
  VALUES (1, 'sla.breach', 'log', 'supervisor', 't1/response/step1/r0/supervisor', 'pending',
  1772442000000, '{}', 1772442000000);
PRAGMA user_version = 1;
