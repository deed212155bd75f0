import { defaultValues, InvalidAuthenticationError, type DestinationDefinition } from './actions-core.js';
import { aliasAction } from './actions/alias/index.js';
import { groupIdentifyAction } from './actions/group-identify/index.js';
import { identifyUserAction } from './actions/identify-user/index.js';
import { profileOperationsAction } from './actions/profile-operations/index.js';
import { trackEventAction } from './actions/track-event/index.js';
import type { PayloadSink } from './deliver.js';
import { apiHost, importAuth, settingsFields, type Settings } from './settings.js';

/**
 * Mixpanel with correct ID Merge payloads; with a sink (used by `idmerge collect`) the same actions
 * hand their payloads to the shared sender instead of calling Mixpanel themselves. The name avoids spaces and parentheses: fast-uri 3.1.6+
 * (used by ajv in actions-core) rejects such names when schemas are compiled.
 */
export function createDestination(options: { sink?: PayloadSink } = {}): DestinationDefinition<Settings> {
  const trackEvent = trackEventAction(options.sink);
  const identifyUser = identifyUserAction(options.sink);
  const alias = aliasAction(options.sink);
  const groupIdentify = groupIdentifyAction(options.sink);
  const profileOperations = profileOperationsAction(options.sink);
  return {
    name: 'idmerge-mixpanel',
    slug: 'actions-idmerge-mixpanel',
    mode: 'cloud',
    description:
      'Send Segment calls to Mixpanel with ID Merge payloads built for your project’s identity API.',
    authentication: {
      scheme: 'custom',
      fields: settingsFields,
      testAuthentication: async (request, { settings }) => {
        const auth = importAuth(settings);
        if (!auth)
          throw new InvalidAuthenticationError(
            'Set a service account (username, secret, project ID) or an API secret: /import needs one.',
          );
        // An empty strict import authenticates without storing anything.
        const query = ['strict=1', auth.query].filter(Boolean).join('&');
        return request(`${apiHost(settings)}/import?${query}`, {
          method: 'post',
          headers: { Authorization: auth.authorization, 'Content-Type': 'application/json' },
          body: '[]',
        });
      },
    },
    presets: [
      {
        name: 'Track Calls',
        subscribe: 'type = "track"',
        partnerAction: 'trackEvent',
        mapping: defaultValues(trackEvent.fields),
        type: 'automatic',
      },
      {
        name: 'Page Calls',
        subscribe: 'type = "page"',
        partnerAction: 'trackEvent',
        mapping: defaultValues(trackEvent.fields),
        type: 'automatic',
      },
      {
        name: 'Screen Calls',
        subscribe: 'type = "screen"',
        partnerAction: 'trackEvent',
        mapping: defaultValues(trackEvent.fields),
        type: 'automatic',
      },
      {
        name: 'Identify Calls',
        subscribe: 'type = "identify"',
        partnerAction: 'identifyUser',
        mapping: defaultValues(identifyUser.fields),
        type: 'automatic',
      },
      {
        name: 'Group Calls',
        subscribe: 'type = "group"',
        partnerAction: 'groupIdentify',
        mapping: defaultValues(groupIdentify.fields),
        type: 'automatic',
      },
      {
        name: 'Alias Calls',
        subscribe: 'type = "alias"',
        partnerAction: 'alias',
        mapping: defaultValues(alias.fields),
        type: 'automatic',
      },
    ],
    actions: { trackEvent, identifyUser, alias, groupIdentify, profileOperations },
  };
}

/** The destination as Segment runs it: payloads go to Mixpanel's HTTP API of the chosen region. */
export const destination = createDestination();

export default destination;
