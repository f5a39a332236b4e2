/**
 * A linearizability checker in the style of Wing & Gong, with Lowe's
 * memoization as used by Porcupine: depth-first search for an order of the
 * operations that respects real time (an operation that returned before
 * another was called comes first) and the sequential model, caching every
 * (set of linearized operations, model state) already explored. A history is
 * split into independent partitions (one per key for a key-value store) and
 * each is checked alone, which keeps the search small.
 *
 * An operation whose outcome the client never learned has `return: Infinity`
 * and `output: undefined`: it may have taken effect at any point after its
 * call, or never (linearizing it last is the same as "never" as no later
 * observation sees it).
 */

export interface Operation<I, O> {
  readonly clientId: number;
  readonly input: I;
  /** undefined when the outcome is unknown */
  readonly output: O | undefined;
  /** real-time (or logical) instants; distinct values keep the order strict */
  readonly call: number;
  readonly return: number;
}

export interface Model<S, I, O> {
  init(): S;
  /** Applies `input` to `state`; ok is false when `output` cannot be observed from `state`. */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S };
  /** A string identifying the state, for memoization. */
  key(state: S): string;
  /** Independent sub-histories (default: one). */
  partition?(history: readonly Operation<I, O>[]): Operation<I, O>[][];
  describe?(op: Operation<I, O>): string;
}

export type CheckResult<I, O> =
  | { readonly ok: true; readonly partitions: number; readonly steps: number }
  | {
      readonly ok: false;
      readonly reason: 'not-linearizable' | 'budget-exceeded';
      /** the partition that failed, sorted by call time */
      readonly operations: readonly Operation<I, O>[];
      readonly steps: number;
    };

interface ListNode {
  readonly id: number;
  readonly isCall: boolean;
  readonly time: number;
  match: ListNode | null; // call -> its return
  prev: ListNode | null;
  next: ListNode | null;
}

export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  budget = 2_000_000,
): CheckResult<I, O> {
  const partitions = model.partition ? model.partition(history) : [history.slice()];
  let steps = 0;
  for (const ops of partitions) {
    const r = checkSingle(model, ops, budget - steps);
    steps += r.steps;
    if (r.verdict !== 'ok') {
      const sorted = ops.slice().sort((a, b) => a.call - b.call);
      return {
        ok: false,
        reason: r.verdict === 'budget' ? 'budget-exceeded' : 'not-linearizable',
        operations: sorted,
        steps,
      };
    }
  }
  return { ok: true, partitions: partitions.length, steps };
}

function checkSingle<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  budget: number,
): { verdict: 'ok' | 'fail' | 'budget'; steps: number } {
  const head = buildList(ops);
  const cache = new Set<string>();
  const stack: { call: ListNode; state: S }[] = [];
  const linearized = new Uint32Array(Math.ceil(ops.length / 32) + 1);
  let state = model.init();
  let entry = head.next;
  let steps = 0;
  while (head.next !== null) {
    if (++steps > budget) return { verdict: 'budget', steps };
    const e = entry!;
    if (e.isCall) {
      const op = ops[e.id];
      const r = model.step(state, op.input, op.output);
      if (r.ok) {
        setBit(linearized, e.id, true);
        const key = `${bitsKey(linearized)}|${model.key(r.state)}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ call: e, state });
          state = r.state;
          lift(e);
          entry = head.next;
          continue;
        }
        setBit(linearized, e.id, false);
      }
      entry = e.next;
    } else {
      // The earliest pending return: some call before it must be linearized first. Backtrack.
      const top = stack.pop();
      if (!top) return { verdict: 'fail', steps };
      state = top.state;
      setBit(linearized, top.call.id, false);
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { verdict: 'ok', steps };
}

function buildList<I, O>(ops: readonly Operation<I, O>[]): ListNode {
  const events: ListNode[] = [];
  ops.forEach((op, id) => {
    if (!(op.return >= op.call)) throw new Error(`operation ${id} returns before it is called`);
    const call: ListNode = { id, isCall: true, time: op.call, match: null, prev: null, next: null };
    const ret: ListNode = {
      id,
      isCall: false,
      time: op.return,
      match: null,
      prev: null,
      next: null,
    };
    call.match = ret;
    events.push(call, ret);
  });
  // By time; at equal times calls first (the operations overlap).
  events.sort(
    (a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1),
  );
  const head: ListNode = {
    id: -1,
    isCall: false,
    time: -Infinity,
    match: null,
    prev: null,
    next: null,
  };
  let last = head;
  for (const ev of events) {
    last.next = ev;
    ev.prev = last;
    last = ev;
  }
  return head;
}

function lift(call: ListNode): void {
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: ListNode): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

function setBit(bits: Uint32Array, i: number, on: boolean): void {
  if (on) bits[i >>> 5] |= 1 << (i & 31);
  else bits[i >>> 5] &= ~(1 << (i & 31));
}

function bitsKey(bits: Uint32Array): string {
  let s = '';
  for (let i = 0; i < bits.length; i++) s += (bits[i] >>> 0).toString(36) + ',';
  return s;
}

// ---- the key-value model used by the Raft tests ----

export type KvInput =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'append'; readonly key: string; readonly value: string };

export interface KvOutput {
  /** for get: the value read */
  readonly value?: string;
}

export type KvOperation = Operation<KvInput, KvOutput>;

export const kvModel: Model<string, KvInput, KvOutput> = {
  init: () => '',
  step(state, input, output) {
    switch (input.op) {
      case 'get':
        return { ok: output === undefined || output.value === state, state };
      case 'put':
        return { ok: true, state: input.value };
      case 'append':
        return { ok: true, state: state + input.value };
    }
  },
  key: (state) => state,
  partition(history) {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of history) {
      const list = byKey.get(op.input.key) ?? [];
      list.push(op);
      byKey.set(op.input.key, list);
    }
    return [...byKey.values()];
  },
  describe(op) {
    const i = op.input;
    const what =
      i.op === 'get'
        ? `get(${i.key}) -> ${JSON.stringify(op.output?.value)}`
        : `${i.op}(${i.key}, ${JSON.stringify(i.value)})`;
    const ret = Number.isFinite(op.return) ? String(op.return) : '?';
    return `client ${op.clientId}: [${op.call}, ${ret}] ${what}`;
  },
};
