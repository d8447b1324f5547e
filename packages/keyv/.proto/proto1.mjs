import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
const store = new KeyvSqlite({ uri: 'sqlite:///tmp/proto1.db', table: 'oc_kv', busyTimeout: 5000 });
const keyv = new Keyv({ store, namespace: '', useKeyPrefix: false, throwOnErrors: true });
keyv.on('error', (e) => console.log('keyv error event', e?.message));
console.log(await store.query('PRAGMA journal_mode=WAL'));
console.log(await store.query('select sqlite_version() v'));
console.log(await keyv.set('oc:a', { x: 1 }, 1000));
console.log(await store.query('select * from oc_kv'));
console.log(await store.query(`INSERT INTO oc_kv(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE json_extract(oc_kv.value, '$.expires') <= ? RETURNING key`, 'oc:a', '{"value":2,"expires":1}', Date.now()));
console.log(await store.query(`DELETE FROM oc_kv WHERE key = ? RETURNING value`, 'oc:a'));
console.log(await store.query(`DELETE FROM oc_kv WHERE key = ? RETURNING value`, 'oc:a'));
try { await store.query('select * from nope'); } catch (e) { console.log('err', e.code, e.errno, e.message); }
console.log(await store.query('CREATE INDEX IF NOT EXISTS oc_kv_exp ON oc_kv(json_extract(value, \'$.expires\'))'));
console.log(await store.query(`EXPLAIN QUERY PLAN DELETE FROM oc_kv WHERE key IN (SELECT key FROM oc_kv WHERE json_extract(value, '$.expires') <= ? LIMIT 1000)`, 5));
await keyv.disconnect();
