/**
 * Transactions of one SQLite connection started concurrently run one after another: several
 * waiting on the same open transaction do not all begin when it commits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteDatabase } from '../registry/sqlite-database.ts';

test('concurrent transactions on one connection queue instead of nesting', async () => {
  const db = SqliteDatabase.open(':memory:');
  try {
    await db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER)');
    const order: number[] = [];
    await Promise.all(Array.from({ length: 6 }, (_, k) => db.transaction(async (tx) => {
      await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [k, k]);
      await new Promise((r) => setTimeout(r, 5)); // holds the transaction open while others wait
      order.push(k);
    })));
    assert.equal(order.length, 6);
    assert.equal((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n, 6);
  } finally {
    await db.close();
  }
});
