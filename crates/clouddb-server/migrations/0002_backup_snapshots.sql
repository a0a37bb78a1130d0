-- 0002: backups snapshot their instance's databases and users (for restore_from_backup), keep the
-- source instance's storage and the creation_token of their POST. Backups recorded before carry none
-- of that: give them the fields every backup now has, so readers never meet a record without them.
-- Their snapshot is empty (it was never taken); source_storage_gb is recovered from size_bytes, which
-- was always storage_gb * 50 MiB + 1 MiB; their creation_token is "" (it was never recorded).
-- Only records without the fields are touched, so running it twice (a crash before user_version is
-- bumped) changes nothing more.
UPDATE backups SET body = json_insert(body,
    '$.source_storage_gb', (json_extract(body, '$.size_bytes') - 1048576) / 52428800,
    '$.databases', json('[]'),
    '$.users', json('[]'),
    '$.database_names', json('[]'),
    '$.user_names', json('[]'),
    '$.creation_token', '')
WHERE json_extract(body, '$.database_names') IS NULL;
