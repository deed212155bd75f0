/**
 * `pnpm demo`: the seed's example flows, resolved by the identity model exactly as Mixpanel would,
 * with no account and nothing sent.
 */
import { resolveEvents } from '@idmerge/shared';
import { loadVectorCases } from '@idmerge/shared/test/vectors';
import { renderClusters, renderEventTable } from './render/resolution.js';

for (const flow of loadVectorCases()) {
  const document = resolveEvents(flow.mode, flow.events);
  console.log(`\n== ${flow.name} (${flow.mode} ID Merge)\n`);
  console.log(renderEventTable(flow.events, document));
  console.log('\nclusters:');
  console.log(renderClusters(document.clusters));
}
