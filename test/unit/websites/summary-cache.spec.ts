import { SummaryService } from '@/modules/history/summary.service';
import type { Summary } from '@/modules/history/history.dto';

/** The summary cache: one computation per (owner, site) within its lifetime, failures not kept. */
describe('SummaryService.cachedSummary', () => {
  function serviceCounting() {
    const calls: string[] = [];
    const service = new SummaryService(null as never, null as never);
    jest.spyOn(service, 'summary').mockImplementation(async (owner: string, site: string) => {
      calls.push(`${owner}:${site}`);
      if (site === 'gone') throw new Error('not found');
      return { websiteId: site } as unknown as Summary;
    });
    return { service, calls };
  }

  it('computes once for concurrent and repeated requests of the same owner and site', async () => {
    const { service, calls } = serviceCounting();
    await Promise.all([service.cachedSummary('a', 's1'), service.cachedSummary('a', 's1')]);
    await service.cachedSummary('a', 's1');
    expect(calls).toEqual(['a:s1']);
  });

  it('keys by owner, so another user never gets a cached result', async () => {
    const { service, calls } = serviceCounting();
    await service.cachedSummary('a', 's1');
    await service.cachedSummary('b', 's1');
    expect(calls).toEqual(['a:s1', 'b:s1']);
  });

  it('does not remember failures', async () => {
    const { service, calls } = serviceCounting();
    await expect(service.cachedSummary('a', 'gone')).rejects.toThrow('not found');
    await expect(service.cachedSummary('a', 'gone')).rejects.toThrow('not found');
    expect(calls).toEqual(['a:gone', 'a:gone']);
  });
});
