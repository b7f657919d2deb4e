-- One round trip per append: the checks, locks and writes of EventStore.append, server-side.
-- Errors: KA001 = a stream is not at the expected version (DETAIL holds JSON with stream_id,
-- expected, actual); KA002 = the append is not the first write of its transaction.

CREATE FUNCTION kamu_append(
    streams      text[],   -- distinct, in the caller's order
    stream_types text[],
    expected     int[],    -- NULL element: append whatever the version
    counts       int[],    -- events per stream, in the order of the event arrays
    ev_ids       uuid[],
    ev_types     text[],
    ev_data      jsonb[],
    ev_meta      jsonb[],
    ev_times     timestamptz[]
) RETURNS SETOF kamu_events
LANGUAGE plpgsql AS $fn$
DECLARE
    s        text;
    i        int;
    current  int;
    bases    int[] := '{}';
    ev_streams text[] := '{}';
    ev_versions int[] := '{}';
BEGIN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'append must be the first write of its transaction'
            USING ERRCODE = 'KA002';
    END IF;
    -- Stream locks before the first write: transaction ids then follow commit order per stream.
    -- Sorted, so two appends sharing streams never wait for each other in a cycle.
    FOR s IN SELECT x FROM unnest(streams) AS x ORDER BY x LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended(s, 0));
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(streams, 1), 0) LOOP
        SELECT k.version INTO current FROM kamu_streams k WHERE k.stream_id = streams[i];
        current := coalesce(current, 0);
        IF expected[i] IS NOT NULL AND expected[i] <> current THEN
            RAISE EXCEPTION 'stream % is at version %, not the expected %',
                streams[i], current, expected[i]
                USING ERRCODE = 'KA001',
                      DETAIL = json_build_object('stream_id', streams[i],
                                                 'expected', expected[i],
                                                 'actual', current)::text;
        END IF;
        bases := bases || current;
        FOR v IN 1 .. counts[i] LOOP
            ev_streams := ev_streams || streams[i];
            ev_versions := ev_versions || (current + v);
        END LOOP;
    END LOOP;
    INSERT INTO kamu_streams (stream_id, stream_type, version)
    SELECT st, ty, b + c FROM unnest(streams, stream_types, bases, counts) AS u(st, ty, b, c)
    WHERE c > 0
    ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version;
    IF coalesce(array_length(ev_ids, 1), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_notify('kamu_events', '');
    RETURN QUERY
    INSERT INTO kamu_events
        (stream_id, stream_type, version, event_id, event_type, data, metadata, occurred_at)
    SELECT u.st, k.stream_type, u.ver, u.id, u.ty, u.da, u.me, u.ti
    FROM unnest(ev_streams, ev_versions, ev_ids, ev_types, ev_data, ev_meta, ev_times)
         WITH ORDINALITY AS u(st, ver, id, ty, da, me, ti, ord)
    JOIN kamu_streams k ON k.stream_id = u.st
    ORDER BY u.ord
    RETURNING *;
END;
$fn$;
