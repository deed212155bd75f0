/**
 * `pnpm demo`: the main job on embedded defaults, no account. For each example flow (the seed's
 * cases), predict the identity clusters with the model, deliver the events through the real sender
 * to a local Mixpanel-compatible sandbox, and print what the sandbox resolved next to the prediction.
 */
import {
  createDeadLetterList,
  createSender,
  formatReport,
  loadMixpanelConfig,
  resolveEvents,
  startSandbox,
  type Cluster,
  type MixpanelEvent,
} from '@idmerge/shared';
import { loadVectorCases } from '@idmerge/shared/test/vectors';
import { renderClusters, renderEventTable } from './render/resolution.js';

const TOKEN = 'demo-project-token';
let mismatches = 0;

for (const flow of loadVectorCases()) {
  const prediction = resolveEvents(flow.mode, flow.events);
  console.log(`\n== ${flow.name} (${flow.mode} ID Merge)\n`);
  console.log(renderEventTable(flow.events, prediction));
  console.log('\npredicted clusters:');
  console.log(renderClusters(prediction.clusters));

  const sandbox = await startSandbox({ port: 0, mode: flow.mode, projectToken: TOKEN });
  try {
    const config = loadMixpanelConfig({ MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: sandbox.url });
    const deadLetter = createDeadLetterList();
    const sender = createSender(config, { deadLetter });
    for (const event of flow.events) await sender.send({ endpoint: 'import', body: event as MixpanelEvent });
    const report = await sender.flush();
    const { clusters } = (await (await fetch(`${sandbox.url}/_sandbox/clusters`)).json()) as {
      clusters: Cluster[];
    };
    console.log(`\ndelivered to the sandbox at ${sandbox.url}:`);
    console.log(formatReport(report).replace(/^/gm, '  '));
    console.log('\nclusters in the sandbox:');
    console.log(renderClusters(clusters));
    const same = JSON.stringify(clusters) === JSON.stringify(prediction.clusters);
    if (!same) mismatches++;
    console.log(
      same
        ? '\n✔ the sandbox resolved exactly the predicted clusters'
        : '\n✘ the sandbox differs from the prediction',
    );
  } finally {
    await sandbox.close();
  }
}

if (mismatches > 0) {
  console.error(`\n${mismatches} flow(s) resolved differently from the prediction`);
  process.exitCode = 1;
}
