import { ClusterAuth as New } from '@/infra/cluster/cluster-auth';
import { ClusterAuth as Old } from './.cluster-auth-old.tmp';
import { generateKeyPairSync } from 'node:crypto';
const a = generateKeyPairSync('ed25519'); const b = generateKeyPairSync('ed25519');
const pub = (k: any) => k.publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
function pair(C: any) {
  const A = new C('secret-secret-secret-secret-1234', 'A'); A.useIdentity(a.privateKey); A.setPeers([{ id: 'B', publicKey: pub(b), address: 'b:1' }]);
  const B = new C('secret-secret-secret-secret-1234', 'B'); B.useIdentity(b.privateKey); B.setPeers([{ id: 'A', publicKey: pub(a), address: 'a:1' }]);
  return [A, B];
}
const impls = { old: pair(Old), new: pair(New) } as Record<string, any[]>;
const body = Buffer.alloc(200, 1);
const tot: Record<string, number> = { old: 0, new: 0 };
for (let round = 0; round < 8; round++) {
  for (const name of round % 2 ? ['old', 'new'] : ['new', 'old']) {
    const [A, B] = impls[name];
    const N = 20000; const t0 = performance.now(); let ok = 0;
    for (let i = 0; i < N; i++) if (B.checkHeaders('POST', '/api/raft/batch', A.sign('POST', '/api/raft/batch', body, 'B')).ok) ok++;
    if (ok !== N) throw new Error('verify failed');
    if (round > 0) tot[name] += performance.now() - t0;
  }
}
console.log(`sign+check µs: old ${(tot.old * 1000 / 140000).toFixed(1)}, new ${(tot.new * 1000 / 140000).toFixed(1)}, new/old ${(tot.new / tot.old).toFixed(2)}`);
