import {
  appendFile,
  mkdtemp,
  open,
  readFile,
  readdir,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SeededRandom } from '@/core/ports/seeded-random';
import type { RaftStorage } from '@/core/raft/raft-storage.port';
import { RaftNode } from '@/core/raft/raft-node';
import { RaftDriver } from '@/modules/raft/raft-driver';
import type { LogEntry, Snapshot } from '@/core/raft/raft.types';
import { DiskRaftStorage } from '@/modules/raft/storage/disk-raft-storage';
import { HARD_STATE_FILE } from '@/modules/raft/storage/hard-state.file';
import { encodeRecord } from '@/modules/raft/storage/record.codec';
import { segmentFileName } from '@/modules/raft/storage/segmented-log';
import { snapshotFileName } from '@/modules/raft/storage/snapshot.store';
import { RaftStorageCorruptionError } from '@/modules/raft/storage/storage.errors';

/**
 * Raft's durable storage against real files in a temporary directory: what
 * goes in comes back after a restart, a crash mid-append is repaired, damage
 * anywhere else is refused with the file and offset, snapshots replace or
 * trim the log atomically, and segments roll and are compacted away.
 */
describe('DiskRaftStorage', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raft-storage-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const entry = (
    index: number,
    term: number,
    data: string | Uint8Array = `cmd-${index}`,
  ): LogEntry => ({
    index,
    term,
    type: 'command',
    data,
  });
  const range = (from: number, to: number, term: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
  const openStorage = async (segmentBytes?: number) => {
    const s = await DiskRaftStorage.open({ dir, segmentBytes });
    const state = await s.load();
    return { s, state };
  };
  const segments = async () => (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
  const snapshotsOnDisk = async () =>
    (await readdir(dir)).filter((n) => n.endsWith('.snap')).sort();

  it('starts empty', async () => {
    const { s, state } = await openStorage();
    expect(state).toEqual({
      hardState: { term: 0, vote: null, commit: 0 },
      snapshot: null,
      entries: [],
    });
    await s.close();
  });

  it('round-trips entries, both kinds of data, and the hard state across a restart', async () => {
    const { s } = await openStorage();
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const entries: LogEntry[] = [
      { index: 1, term: 1, type: 'noop', data: '' },
      entry(2, 1, 'héllo ✓'),
      entry(3, 2, bytes),
    ];
    await s.save({ entries, hardState: { term: 2, vote: 'n2', commit: 3 } });
    await s.close();

    const { s: again, state } = await openStorage();
    expect(state.hardState).toEqual({ term: 2, vote: 'n2', commit: 3 });
    expect(state.entries).toEqual(entries);
    expect(state.entries[2].data).toBeInstanceOf(Uint8Array);
    expect(again.recovery).toEqual({ tornTail: null, discardedEntries: 0 });
    await again.close();
  });

  it('keeps appending after a restart, and replaces a conflicting suffix', async () => {
    const { s } = await openStorage();
    await s.save({ entries: range(1, 10, 1), hardState: { term: 1, vote: 'n1', commit: 4 } });
    await s.close();

    const { s: s2 } = await openStorage();
    await s2.save({ entries: range(11, 12, 1) });
    // A new leader's entries conflict from 6 on: 6..12 go, 6..7 of term 2 come in.
    await s2.save({ entries: range(6, 7, 2), hardState: { term: 2, vote: null, commit: 5 } });
    await s2.close();

    const { s: s3, state } = await openStorage();
    expect(state.entries).toEqual([...range(1, 5, 1), ...range(6, 7, 2)]);
    expect(state.hardState).toEqual({ term: 2, vote: null, commit: 5 });
    await s3.close();
  });

  it('writes the hard state only when term or vote change (commit rides along)', async () => {
    const { s } = await openStorage();
    await s.save({ entries: range(1, 3, 1), hardState: { term: 1, vote: 'n1', commit: 0 } });
    const before = await stat(join(dir, HARD_STATE_FILE));
    await s.save({ entries: [], hardState: { term: 1, vote: 'n1', commit: 3 } });
    const after = await stat(join(dir, HARD_STATE_FILE));
    expect(after.ino).toBe(before.ino); // not rewritten: commit alone is only a hint
    await s.close();
    const { s: again, state } = await openStorage();
    expect(state.hardState).toEqual({ term: 1, vote: 'n1', commit: 0 });
    await again.close();
  });

  describe('crash recovery', () => {
    const lastSegment = async () => join(dir, (await segments()).at(-1)!);

    it('truncates a torn tail: a partial last record', async () => {
      const { s } = await openStorage();
      await s.save({ entries: range(1, 5, 1) });
      await s.close();
      const file = await lastSegment();
      const sizeBefore = (await stat(file)).size;
      const next = encodeRecord(entry(6, 1));
      await appendFile(file, next.subarray(0, next.length - 3)); // the crash cut the write short

      const { s: again, state } = await openStorage();
      expect(state.entries).toEqual(range(1, 5, 1));
      expect(again.recovery.tornTail).toEqual({
        file,
        offset: sizeBefore,
        bytesDropped: next.length - 3,
      });
      expect((await stat(file)).size).toBe(sizeBefore);
      // The log is usable again at the cut.
      await again.save({ entries: range(6, 7, 1) });
      await again.close();
      const { s: third, state: after } = await openStorage();
      expect(after.entries).toEqual(range(1, 7, 1));
      await third.close();
    });

    it('truncates a zero-filled tail and a last record that fails its checksum', async () => {
      const { s } = await openStorage();
      await s.save({ entries: range(1, 5, 1) });
      await s.close();
      const file = await lastSegment();
      await appendFile(file, Buffer.alloc(300)); // blocks allocated, never written
      let { s: s2, state } = await openStorage();
      expect(state.entries).toHaveLength(5);
      expect(s2.recovery.tornTail?.bytesDropped).toBe(300);
      await s2.close();

      const garbled = encodeRecord(entry(6, 1));
      garbled[garbled.length - 1] ^= 0xff;
      await appendFile(file, garbled);
      ({ s: s2, state } = await openStorage());
      expect(state.entries).toHaveLength(5);
      expect(s2.recovery.tornTail?.bytesDropped).toBe(garbled.length);
      await s2.close();
    });

    it('refuses a corrupted record in the middle, naming the file and the offset', async () => {
      const { s } = await openStorage();
      await s.save({ entries: range(1, 5, 1) });
      await s.close();
      const file = await lastSegment();
      const offsetOf3 = encodeRecord(entry(1, 1)).length + encodeRecord(entry(2, 1)).length;
      const h = await open(file, 'r+');
      await h.write(Buffer.from([0xaa]), 0, 1, offsetOf3 + 20); // one flipped byte in record 3
      await h.close();

      const s2 = await DiskRaftStorage.open({ dir });
      const failure = await s2.load().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RaftStorageCorruptionError);
      const err = failure as RaftStorageCorruptionError;
      expect(err.file).toBe(file);
      expect(err.offset).toBe(offsetOf3);
      expect(err.message).toContain(file);
      expect(err.message).toContain(`offset ${offsetOf3}`);
      expect(err.message).toContain('checksum mismatch');
      // Nothing was "repaired" behind the operator's back.
      expect((await stat(file)).size).toBe(offsetOf3 + 3 * encodeRecord(entry(3, 1)).length);
    });

    it('refuses damage at the end of a segment that is not the last', async () => {
      const { s } = await openStorage(200);
      await s.save({ entries: range(1, 30, 1) });
      await s.close();
      const [first] = await segments();
      const file = join(dir, first);
      const size = (await stat(file)).size;
      const h = await open(file, 'r+');
      await h.truncate(size - 2);
      await h.close();
      const failure = await (
        await DiskRaftStorage.open({ dir, segmentBytes: 200 })
      )
        .load()
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RaftStorageCorruptionError);
      expect((failure as RaftStorageCorruptionError).file).toBe(file);
    });

    it('refuses a gap between segments', async () => {
      const { s } = await openStorage(200);
      await s.save({ entries: range(1, 30, 1) });
      await s.close();
      const names = await segments();
      expect(names.length).toBeGreaterThanOrEqual(3);
      await rm(join(dir, names[1]));
      const failure = await (await DiskRaftStorage.open({ dir })).load().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RaftStorageCorruptionError);
      expect((failure as Error).message).toMatch(
        /segment starts at index \d+ but the previous one ends at \d+/,
      );
    });

    it('refuses a hard-state file damaged in both slots', async () => {
      const { s } = await openStorage();
      await s.save({ entries: [], hardState: { term: 3, vote: 'n1', commit: 0 } });
      await s.close();
      const buf = await readFile(join(dir, HARD_STATE_FILE));
      buf[30] ^= 0x01;
      buf[buf.length / 2 + 30] ^= 0x01;
      await writeFile(join(dir, HARD_STATE_FILE), buf);
      await expect((await DiskRaftStorage.open({ dir })).load()).rejects.toThrow(
        RaftStorageCorruptionError,
      );
    });

    it('a torn hard-state write loses only itself: the other slot holds the state before it', async () => {
      const { s } = await openStorage();
      await s.save({ entries: [], hardState: { term: 3, vote: 'n1', commit: 0 } });
      await s.save({ entries: [], hardState: { term: 4, vote: 'n2', commit: 0 } });
      await s.save({ entries: [], hardState: { term: 5, vote: null, commit: 0 } });
      await s.close();
      const { s: s2, state } = await openStorage();
      expect(state.hardState).toEqual({ term: 5, vote: null, commit: 0 });
      await s2.close();
      // The first save wrote both slots (sequence 1), the second slot 0 (2), the third slot 1 (3).
      const buf = await readFile(join(dir, HARD_STATE_FILE));
      buf[buf.length / 2 + 25] ^= 0xff;
      await writeFile(join(dir, HARD_STATE_FILE), buf);
      const { s: s3, state: after } = await openStorage();
      expect(after.hardState).toEqual({ term: 4, vote: 'n2', commit: 0 });
      // The next write goes into the torn slot and is the newest from then on.
      await s3.save({ entries: [], hardState: { term: 6, vote: 'n3', commit: 0 } });
      await s3.close();
      const { s: s4, state: last } = await openStorage();
      expect(last.hardState).toEqual({ term: 6, vote: 'n3', commit: 0 });
      await s4.close();
    });

    it('reads a hard-state file of the single-record format and replaces it on the next write', async () => {
      const json = Buffer.from(JSON.stringify({ term: 7, vote: 'n2', commit: 0 }));
      const header = Buffer.alloc(8);
      Buffer.from('RHS1').copy(header, 0);
      header.writeUInt32BE(crc32(json), 4);
      await writeFile(join(dir, HARD_STATE_FILE), Buffer.concat([header, json]));
      const { s, state } = await openStorage();
      expect(state.hardState).toEqual({ term: 7, vote: 'n2', commit: 0 });
      await s.save({ entries: [], hardState: { term: 8, vote: 'n1', commit: 0 } });
      await s.close();
      const { s: again, state: next } = await openStorage();
      expect(next.hardState).toEqual({ term: 8, vote: 'n1', commit: 0 });
      await again.close();
    });
  });

  describe('snapshots', () => {
    const snap = (index: number, term: number, text: string): Snapshot => ({
      index,
      term,
      data: new TextEncoder().encode(text),
    });

    it('compaction keeps the entries after the snapshot and survives a restart', async () => {
      const { s } = await openStorage();
      await s.save({ entries: range(1, 20, 1), hardState: { term: 1, vote: 'n1', commit: 20 } });
      await s.compact(snap(12, 1, 'state@12'));
      await s.close();

      const { s: again, state } = await openStorage();
      expect(state.snapshot).toEqual(snap(12, 1, 'state@12'));
      expect(state.entries).toEqual(range(13, 20, 1));
      await again.close();
    });

    it('an installed snapshot replaces the whole log', async () => {
      const { s } = await openStorage();
      await s.save({ entries: range(1, 10, 1), hardState: { term: 1, vote: null, commit: 3 } });
      // The leader's history differs: its snapshot ends at 40 in term 3.
      await s.save({
        snapshot: snap(40, 3, 'leader@40'),
        entries: range(41, 42, 3),
        hardState: { term: 3, vote: null, commit: 40 },
      });
      await s.close();

      const { s: again, state } = await openStorage();
      expect(state.snapshot?.index).toBe(40);
      expect(state.entries).toEqual(range(41, 42, 3));
      expect(state.hardState.term).toBe(3);
      await again.close();
    });

    it('a crash between writing an installed snapshot and deleting the old log drops the old log', async () => {
      const { s } = await openStorage();
      await s.save({ entries: range(1, 10, 1), hardState: { term: 1, vote: null, commit: 3 } });
      await s.close();
      // What an interrupted install leaves: the new snapshot file, the old segments.
      const leaderSnap = snap(8, 2, 'leader@8'); // index 8 is term 1 here: another history
      const data = await saveSnapshotOnly(dir, leaderSnap);
      expect(data).toBeDefined();

      const { s: again, state } = await openStorage();
      expect(state.snapshot).toEqual(leaderSnap);
      expect(state.entries).toEqual([]);
      expect(again.recovery.discardedEntries).toBe(2);
      expect(await segments()).toEqual([]);
      await again.save({ entries: range(9, 9, 2) });
      await again.close();
    });

    it('is atomic: a leftover temporary file is ignored and removed, the last complete snapshot wins', async () => {
      const { s } = await openStorage();
      await s.save({ entries: range(1, 10, 1) });
      await s.compact(snap(5, 1, 'state@5'));
      await s.close();
      // A crash in the middle of writing the next snapshot: only the temp file exists.
      const temp = join(dir, `${snapshotFileName(9, 1)}.tmp`);
      await writeFile(temp, Buffer.from('RSN1 half a snapshot'));

      const { s: again, state } = await openStorage();
      expect(state.snapshot).toEqual(snap(5, 1, 'state@5'));
      expect(state.entries).toEqual(range(6, 10, 1));
      expect((await readdir(dir)).some((n) => n.endsWith('.tmp'))).toBe(false);
      await again.close();
    });

    it('refuses a snapshot that fails its checksum', async () => {
      const { s } = await openStorage();
      await s.save({ entries: range(1, 10, 1) });
      await s.compact(snap(5, 1, 'state@5'));
      await s.close();
      const file = join(dir, snapshotFileName(5, 1));
      const buf = await readFile(file);
      buf[buf.length - 1] ^= 0x20;
      await writeFile(file, buf);
      const failure = await (await DiskRaftStorage.open({ dir })).load().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RaftStorageCorruptionError);
      expect((failure as RaftStorageCorruptionError).file).toBe(file);
    });

    it('prunes older snapshot files, keeping the newest two', async () => {
      const { s } = await openStorage();
      await s.save({ entries: range(1, 40, 1) });
      for (const i of [10, 20, 30]) await s.compact(snap(i, 1, `state@${i}`));
      expect(await snapshotsOnDisk()).toEqual([snapshotFileName(20, 1), snapshotFileName(30, 1)]);
      await s.close();
    });
  });

  describe('segments', () => {
    it('roll at the size limit and are compacted away whole once a snapshot covers them', async () => {
      const { s } = await openStorage(256);
      for (let i = 1; i <= 100; i += 10) await s.save({ entries: range(i, i + 9, 1) });
      const before = await segments();
      expect(before.length).toBeGreaterThan(5);
      expect(s.segmentCount()).toBe(before.length);
      for (const name of before.slice(0, -1)) {
        // A segment stops growing at the limit (give or take one record).
        expect((await stat(join(dir, name))).size).toBeLessThan(
          256 + encodeRecord(entry(100, 1)).length,
        );
      }
      expect(before[0]).toBe(segmentFileName(1));

      await s.compact({ index: 60, term: 1, data: new Uint8Array([60]) });
      const after = await segments();
      expect(after.length).toBeLessThan(before.length);
      // The first remaining segment still holds 61 (it may start a little earlier).
      const firstIndex = Number(after[0].slice(4, 24));
      expect(firstIndex).toBeLessThanOrEqual(61);
      expect(firstIndex).toBeGreaterThan(40);
      await s.close();

      const { s: again, state } = await openStorage(256);
      expect(state.snapshot?.index).toBe(60);
      expect(state.entries).toEqual(range(61, 100, 1));
      // Truncating into an older segment removes the later ones.
      await again.save({ entries: range(70, 71, 2) });
      await again.close();
      const { s: third, state: last } = await openStorage(256);
      expect(last.entries).toEqual([...range(61, 69, 1), ...range(70, 71, 2)]);
      await third.close();
    });
  });

  it('drives a real RaftNode: a cluster of one restarts from disk with its log and state intact', async () => {
    const boot = async () => {
      const storage = await DiskRaftStorage.open({ dir, segmentBytes: 512 });
      const state = await storage.load();
      const node = new RaftNode({ id: 'n1', voters: ['n1'], random: new SeededRandom(7) }, state);
      const applied: string[] = [];
      const pump = async () => {
        while (node.hasReady()) {
          const rd = node.ready();
          await storage.save({
            hardState: rd.hardState,
            entries: rd.entries,
            snapshot: rd.snapshot,
          });
          for (const e of rd.committedEntries)
            if (e.type === 'command') applied.push(String(e.data));
          node.advance();
          node.persisted(rd); // saved above: the leader now counts its own copy
        }
      };
      node.campaign();
      await pump();
      return { storage, node, applied, pump, state };
    };

    const first = await boot();
    expect(first.node.currentRole).toBe('leader');
    for (let i = 0; i < 30; i++) first.node.propose(`v${i}`);
    await first.pump();
    expect(first.applied).toHaveLength(30);
    const snapshot = first.node.compact(
      first.node.appliedIndex - 5,
      new TextEncoder().encode('image'),
    );
    await first.storage.compact(snapshot);
    await first.storage.close();

    const second = await boot();
    expect(second.state.snapshot?.index).toBe(snapshot.index);
    expect(second.node.currentTerm).toBe(2);
    // The five entries after the snapshot are re-applied on restart, then new ones follow.
    expect(second.applied).toEqual(['v25', 'v26', 'v27', 'v28', 'v29']);
    second.node.propose('after-restart');
    await second.pump();
    expect(second.applied.at(-1)).toBe('after-restart');
    await second.storage.close();
  });
});

/**
 * The RaftDriver on real files: proposals that queue while a write runs share
 * the next append and fsync (group commit), nothing is applied before it is on
 * disk, everything acknowledged comes back after a restart, and a failing disk
 * stops the node without sending what the failed write would have promised.
 */
describe('RaftDriver on DiskRaftStorage', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raft-driver-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const boot = async (wrap?: (s: DiskRaftStorage) => RaftStorage) => {
    const disk = await DiskRaftStorage.open({ dir });
    const state = await disk.load();
    const storage = wrap ? wrap(disk) : disk;
    const node = new RaftNode({ id: 'n1', voters: ['n1'], random: new SeededRandom(3) }, state);
    const applied: { index: number; data: string; onDisk: boolean }[] = [];
    const sent: unknown[] = [];
    const failures: Error[] = [];
    let durable = state.entries.at(-1)?.index ?? 0;
    const saving = storage.save.bind(storage);
    storage.save = async (u) => {
      await saving(u);
      if (u.entries.length > 0) durable = u.entries[u.entries.length - 1].index;
    };
    const driver = new RaftDriver(node, storage, (m) => sent.push(m), {
      softState: () => undefined,
      restore: () => undefined,
      apply: (e) => {
        if (e.type === 'command')
          applied.push({ index: e.index, data: String(e.data), onDisk: e.index <= durable });
      },
      readStates: () => undefined,
      compact: () => null,
      fail: (e) => failures.push(e),
    });
    node.campaign();
    driver.kick();
    return { disk, node, driver, applied, sent, failures };
  };

  const settle = async (pred: () => boolean) => {
    for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(pred()).toBe(true);
  };

  it('groups queued proposals into one fsync each and applies only what is on disk', async () => {
    const a = await boot();
    await settle(() => a.node.currentRole === 'leader' && a.node.commitIndex >= 1);
    const before = a.driver.stats.writes;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) {
        expect(a.node.propose(`r${round}-${i}`).ok).toBe(true);
        a.driver.kick();
      }
      await new Promise((r) => setImmediate(r));
    }
    await settle(() => a.applied.length === 200);
    const writes = a.driver.stats.writes - before;
    // 200 proposals, each kicked on its own: the ones queued behind a running write share the next.
    expect(writes).toBeLessThan(200);
    expect(a.driver.stats.largestWrite).toBeGreaterThan(1);
    expect(a.applied.every((x) => x.onDisk)).toBe(true);
    await a.driver.stop();
    await a.disk.close();

    const b = await boot();
    await settle(() => b.applied.length >= 200);
    expect(b.applied.slice(0, 200).map((x) => x.data)).toEqual(a.applied.map((x) => x.data));
    await b.driver.stop();
    await b.disk.close();
  });

  it('stops on a failed write: nothing it would have promised is applied or sent', async () => {
    let broken = false;
    const a = await boot((disk) => ({
      load: () => disk.load(),
      save: (u) => (broken ? Promise.reject(new Error('EIO: disk gone')) : disk.save(u)),
      compact: (s) => disk.compact(s),
      close: () => disk.close(),
    }));
    await settle(() => a.node.currentRole === 'leader' && a.node.commitIndex >= 1);
    const appliedBefore = a.applied.length;
    broken = true;
    expect(a.node.propose('lost').ok).toBe(true);
    a.driver.kick();
    await settle(() => a.failures.length === 1);
    expect(a.failures[0].message).toMatch(/EIO/);
    expect(a.applied.length).toBe(appliedBefore);
    expect(a.node.commitIndex).toBeLessThan(a.node.lastIndex);
    const readies = a.driver.stats.readies;
    expect(a.node.propose('after the failure').ok).toBe(true);
    a.driver.kick(); // a failed driver takes no more Readys
    expect(a.driver.stats.readies).toBe(readies);
    await a.disk.close();
  });
});

/** Writes a snapshot file the way SnapshotStore does, without touching the log (a crash right after). */
async function saveSnapshotOnly(dir: string, s: Snapshot): Promise<string> {
  const { SnapshotStore } = await import('@/modules/raft/storage/snapshot.store');
  await new SnapshotStore(dir, 2).save(s);
  return snapshotFileName(s.index, s.term);
}
