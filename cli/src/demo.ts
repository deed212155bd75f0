/**
 * `pnpm demo`: the main job on embedded defaults, no account. First the seed's example flows:
 * predict their clusters with the model, deliver them through the real sender to a local
 * Mixpanel-compatible sandbox, and compare. Then a warehouse: preview, sync and compare.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDeadLetterFile,
  createDeadLetterList,
  createIdentityModel,
  createSender,
  formatReport,
  loadMixpanelConfig,
  resolveEvents,
  startSandbox,
  type Cluster,
  type MixpanelEvent,
} from '@idmerge/shared';
import { loadVectorCases } from '@idmerge/shared/test/vectors';
import {
  buildDemoWarehouse,
  createSource,
  loadSyncDefinition,
  previewSync,
  runSync,
  StateStore,
  writeDemoDefinitions,
} from '@idmerge/warehouse-sync';
import { EXIT } from './exit-codes.js';
import { renderPreview } from './render/preview.js';
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
  process.exitCode = EXIT.failed;
}

/**
 * Part two: the main job on the embedded warehouse. Build a small DuckDB warehouse, preview what
 * its two syncs will do to identities, run them into the sandbox, and compare.
 */
async function warehouseDemo(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'idmerge-demo-'));
  const warehouse = await buildDemoWarehouse(dir);
  const definitionFiles = writeDemoDefinitions(dir);
  console.log(`\n== A warehouse sync, end to end (simplified ID Merge)\n`);
  console.log(
    `warehouse: ${warehouse.database} (events: ${warehouse.events} rows, logins: ${warehouse.logins} rows)`,
  );

  const definitions = await Promise.all(
    [definitionFiles.events, definitionFiles.logins].map(loadSyncDefinition),
  );
  const prediction = createIdentityModel('simplified');
  for (const definition of definitions) {
    const source = createSource(definition, dir);
    await source.connect();
    try {
      const report = await previewSync(definition, source, undefined, prediction);
      console.log(`\n-- preview of ${definition.name}`);
      console.log(renderPreview({ ...report, predictedClusters: [] }).split('\npredicted clusters:')[0]);
    } finally {
      await source.close();
    }
  }

  const sandbox = await startSandbox({ port: 0, mode: 'simplified', projectToken: TOKEN });
  try {
    const config = loadMixpanelConfig({ MIXPANEL_PROJECT_TOKEN: TOKEN, MIXPANEL_API_HOST: sandbox.url });
    for (const definition of definitions) {
      const source = createSource(definition, dir);
      const deadLetter = createDeadLetterFile(
        join(dir, `${definition.name}-dead-letter.ndjson`),
        config.secrets,
      );
      const sender = createSender(config, { deadLetter });
      await source.connect();
      try {
        const run = await runSync(
          definition,
          source,
          sender,
          new StateStore(join(dir, 'state', definition.name)),
        );
        const report = await sender.flush();
        console.log(
          `\n-- sync ${definition.name}: ${run.rowsRead} rows read, ${report.delivered} delivered, ` +
            `${report.deadLettered} dead-lettered (${Math.round(run.rowsPerSecond)} rows/s)`,
        );
      } finally {
        await source.close();
        await deadLetter.close();
      }
    }
    const { clusters } = (await (await fetch(`${sandbox.url}/_sandbox/clusters`)).json()) as {
      clusters: Cluster[];
    };
    const predicted = prediction.clusters();
    const same = JSON.stringify(clusters) === JSON.stringify(predicted);
    const kiosk = clusters.find((c) => c.members.includes('$device:kiosk-1'));
    console.log(`\nsandbox: ${clusters.length} clusters; preview predicted ${predicted.length}`);
    console.log(
      `the kiosk device belongs to ${kiosk?.distinct_id ?? 'nobody'} (first link wins; the second login failed)`,
    );
    console.log(
      same
        ? '✔ the sandbox resolved exactly the predicted clusters'
        : '✘ the sandbox differs from the prediction',
    );
    return same;
  } finally {
    await sandbox.close();
  }
}

if (!(await warehouseDemo())) process.exitCode = EXIT.failed;
