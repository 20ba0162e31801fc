-- floe indexer schema, version 3: what an explorer's overview needs
-- without aggregating every blob on each request.
--
-- 1. The epoch's timing from the Staking object (read with the committee
--    snapshot): its state machine (change_done, params_selected,
--    change_sync), the start of the current epoch, the nominal epoch
--    length and when epoch 0 ends. With them a reader can say which phase
--    the epoch is in and how long it has left.
-- 2. Running counters of certified blobs by (certified epoch, end epoch),
--    kept like blob_stats by statement triggers inside the committer's
--    transaction. A blob counts in every epoch e with
--    certified_epoch <= e < end_epoch, so the bytes stored per epoch are a
--    sum over a few hundred rows at most (epochs times the storage
--    horizon), not a scan of the blobs. Expired blobs keep counting for
--    the epochs they were stored in; deleted ones leave the counters
--    (the index keeps no deletion epoch).

ALTER TABLE system_state
    ADD COLUMN epoch_state TEXT,
    ADD COLUMN epoch_start_ms BIGINT,
    ADD COLUMN epoch_duration_ms BIGINT,
    ADD COLUMN first_epoch_start_ms BIGINT;

CREATE TABLE blob_epoch_stats (
    certified_epoch INT NOT NULL,
    end_epoch INT NOT NULL,
    blobs BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    encoded_bytes BIGINT NOT NULL,
    PRIMARY KEY (certified_epoch, end_epoch)
);

INSERT INTO blob_epoch_stats (certified_epoch, end_epoch, blobs, bytes, encoded_bytes)
SELECT certified_epoch, end_epoch, count(*), coalesce(sum(size), 0)::int8,
       coalesce(sum(encoded_size), 0)::int8
FROM blobs
WHERE status = 'certified' AND certified_epoch IS NOT NULL AND end_epoch IS NOT NULL
GROUP BY 1, 2;

-- One function for the three kinds of write: the rows counted after the
-- statement in, the rows counted before it out.
CREATE FUNCTION blob_epoch_stats_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO blob_epoch_stats AS s (certified_epoch, end_epoch, blobs, bytes, encoded_bytes)
        SELECT certified_epoch, end_epoch, count(*), coalesce(sum(size), 0)::int8,
               coalesce(sum(encoded_size), 0)::int8
        FROM new_rows
        WHERE status = 'certified' AND certified_epoch IS NOT NULL AND end_epoch IS NOT NULL
        GROUP BY 1, 2
        ON CONFLICT (certified_epoch, end_epoch) DO UPDATE SET
            blobs = s.blobs + EXCLUDED.blobs,
            bytes = s.bytes + EXCLUDED.bytes,
            encoded_bytes = s.encoded_bytes + EXCLUDED.encoded_bytes;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO blob_epoch_stats AS s (certified_epoch, end_epoch, blobs, bytes, encoded_bytes)
        SELECT c, e, sum(n)::int8, sum(b)::int8, sum(eb)::int8
        FROM (
            SELECT certified_epoch AS c, end_epoch AS e, 1 AS n, coalesce(size, 0) AS b,
                   coalesce(encoded_size, 0) AS eb
            FROM new_rows
            WHERE status = 'certified' AND certified_epoch IS NOT NULL AND end_epoch IS NOT NULL
            UNION ALL
            SELECT certified_epoch, end_epoch, -1, -coalesce(size, 0), -coalesce(encoded_size, 0)
            FROM old_rows
            WHERE status = 'certified' AND certified_epoch IS NOT NULL AND end_epoch IS NOT NULL
        ) d
        GROUP BY c, e
        HAVING sum(n) <> 0 OR sum(b) <> 0 OR sum(eb) <> 0
        ON CONFLICT (certified_epoch, end_epoch) DO UPDATE SET
            blobs = s.blobs + EXCLUDED.blobs,
            bytes = s.bytes + EXCLUDED.bytes,
            encoded_bytes = s.encoded_bytes + EXCLUDED.encoded_bytes;
    ELSE
        INSERT INTO blob_epoch_stats AS s (certified_epoch, end_epoch, blobs, bytes, encoded_bytes)
        SELECT certified_epoch, end_epoch, -count(*), -coalesce(sum(size), 0)::int8,
               -coalesce(sum(encoded_size), 0)::int8
        FROM old_rows
        WHERE status = 'certified' AND certified_epoch IS NOT NULL AND end_epoch IS NOT NULL
        GROUP BY 1, 2
        ON CONFLICT (certified_epoch, end_epoch) DO UPDATE SET
            blobs = s.blobs + EXCLUDED.blobs,
            bytes = s.bytes + EXCLUDED.bytes,
            encoded_bytes = s.encoded_bytes + EXCLUDED.encoded_bytes;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER blob_epoch_stats_insert AFTER INSERT ON blobs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION blob_epoch_stats_apply();
CREATE TRIGGER blob_epoch_stats_update AFTER UPDATE ON blobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION blob_epoch_stats_apply();
CREATE TRIGGER blob_epoch_stats_delete AFTER DELETE ON blobs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION blob_epoch_stats_apply();
