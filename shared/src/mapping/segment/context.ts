import type { JsonObject } from '../../payload/index.js';
import { toJsonValue } from '../json-value.js';

function at(source: unknown, path: readonly string[]): unknown {
  let value = source;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Reads a dotted path (`context.device.id`) from a call. */
export function readPath(source: unknown, dottedPath: string): unknown {
  return at(source, dottedPath.split('.'));
}

/** Segment context fields and the Mixpanel properties they become. */
const CONTEXT_PROPERTIES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['$current_url', ['page', 'url']],
  ['$referrer', ['page', 'referrer']],
  ['$title', ['page', 'title']],
  ['ip', ['ip']],
  ['$os', ['os', 'name']],
  ['$os_version', ['os', 'version']],
  ['$app_version_string', ['app', 'version']],
  ['$app_build_number', ['app', 'build']],
  ['$manufacturer', ['device', 'manufacturer']],
  ['$model', ['device', 'model']],
  ['$screen_width', ['screen', 'width']],
  ['$screen_height', ['screen', 'height']],
  ['$locale', ['locale']],
  ['$timezone', ['timezone']],
  ['utm_source', ['campaign', 'source']],
  ['utm_medium', ['campaign', 'medium']],
  ['utm_campaign', ['campaign', 'name']],
  ['utm_term', ['campaign', 'term']],
  ['utm_content', ['campaign', 'content']],
  ['$lib_version', ['library', 'version']],
  ['segment_library', ['library', 'name']],
];

/** Event properties taken from a call's context. */
export function contextProperties(context: Record<string, unknown> | undefined): JsonObject {
  const properties: JsonObject = {};
  if (context === undefined) return properties;
  for (const [name, path] of CONTEXT_PROPERTIES) {
    const value = at(context, path);
    if (value !== undefined && value !== null && value !== '')
      properties[name] = toJsonValue(value, path.join('.'), 'context');
  }
  return properties;
}
