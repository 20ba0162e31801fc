-- floe indexer schema, version 2: rows read from object contents (storage
-- resources, blob attributes, payments) and running blob counters.

-- Storage resources are now filled from the Storage objects a checkpoint
-- carries. state: owned (a standalone object), wrapped (inside another
-- object, e.g. consumed by register_blob), destroyed (fused away or
-- destroyed).
ALTER TABLE storage_resources ADD COLUMN state TEXT NOT NULL DEFAULT 'owned';
ALTER TABLE storage_resources ADD COLUMN created_pos BIGINT;
CREATE INDEX storage_state ON storage_resources (state, object_id);

-- Position of the last metadata-field change applied to `attributes`, so a
-- replayed or older change never overwrites a newer map.
ALTER TABLE blobs ADD COLUMN attributes_pos BIGINT NOT NULL DEFAULT 0;

CREATE INDEX payments_kind ON payments (kind, pos);

-- Running counters over `blobs`, per status and end epoch (-1: unknown),
-- so /v1/stats reads a few dozen rows instead of aggregating every blob.
-- Expiry is not a write (it happens when the epoch passes end_epoch), which
-- is why the end epoch is part of the key: the API splits live from
-- expired at read time.
--
-- Maintained by statement-level triggers over the transition tables of
-- every write to `blobs`, inside the committer's transaction: a batch's
-- rows and their counters commit together or not at all, and a replayed
-- batch (whose guarded upserts change no row) changes no counter.
CREATE TABLE blob_stats (
    status TEXT NOT NULL,
    end_epoch INT NOT NULL,
    blobs BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    encoded_bytes BIGINT NOT NULL,
    PRIMARY KEY (status, end_epoch)
);

INSERT INTO blob_stats (status, end_epoch, blobs, bytes, encoded_bytes)
SELECT status, coalesce(end_epoch, -1), count(*), coalesce(sum(size), 0)::int8,
       coalesce(sum(encoded_size), 0)::int8
FROM blobs GROUP BY 1, 2;

-- One function per kind of write: each adds its transition rows (new
-- rows counted in, old rows counted out) to the counters.
CREATE FUNCTION blob_stats_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO blob_stats AS s (status, end_epoch, blobs, bytes, encoded_bytes)
    SELECT status, coalesce(end_epoch, -1), count(*), coalesce(sum(size), 0)::int8,
           coalesce(sum(encoded_size), 0)::int8
    FROM new_rows GROUP BY 1, 2
    ON CONFLICT (status, end_epoch) DO UPDATE SET
        blobs = s.blobs + EXCLUDED.blobs,
        bytes = s.bytes + EXCLUDED.bytes,
        encoded_bytes = s.encoded_bytes + EXCLUDED.encoded_bytes;
    RETURN NULL;
END $$;

CREATE FUNCTION blob_stats_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO blob_stats AS s (status, end_epoch, blobs, bytes, encoded_bytes)
    SELECT status, e, sum(n)::int8, sum(b)::int8, sum(eb)::int8
    FROM (
        SELECT status, coalesce(end_epoch, -1) AS e, 1 AS n, coalesce(size, 0) AS b,
               coalesce(encoded_size, 0) AS eb
        FROM new_rows
        UNION ALL
        SELECT status, coalesce(end_epoch, -1), -1, -coalesce(size, 0), -coalesce(encoded_size, 0)
        FROM old_rows
    ) d
    GROUP BY status, e
    HAVING sum(n) <> 0 OR sum(b) <> 0 OR sum(eb) <> 0
    ON CONFLICT (status, end_epoch) DO UPDATE SET
        blobs = s.blobs + EXCLUDED.blobs,
        bytes = s.bytes + EXCLUDED.bytes,
        encoded_bytes = s.encoded_bytes + EXCLUDED.encoded_bytes;
    RETURN NULL;
END $$;

CREATE FUNCTION blob_stats_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO blob_stats AS s (status, end_epoch, blobs, bytes, encoded_bytes)
    SELECT status, coalesce(end_epoch, -1), -count(*), -coalesce(sum(size), 0)::int8,
           -coalesce(sum(encoded_size), 0)::int8
    FROM old_rows GROUP BY 1, 2
    ON CONFLICT (status, end_epoch) DO UPDATE SET
        blobs = s.blobs + EXCLUDED.blobs,
        bytes = s.bytes + EXCLUDED.bytes,
        encoded_bytes = s.encoded_bytes + EXCLUDED.encoded_bytes;
    RETURN NULL;
END $$;

CREATE TRIGGER blob_stats_insert AFTER INSERT ON blobs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION blob_stats_insert();
CREATE TRIGGER blob_stats_update AFTER UPDATE ON blobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION blob_stats_update();
CREATE TRIGGER blob_stats_delete AFTER DELETE ON blobs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION blob_stats_delete();
