/** The Segment call types and the action (preset) that handles each. */
export type CallType = 'track' | 'page' | 'screen' | 'identify' | 'alias' | 'group';

export const ACTION_FOR_CALL_TYPE = {
  track: 'trackEvent',
  page: 'trackEvent',
  screen: 'trackEvent',
  identify: 'identifyUser',
  alias: 'alias',
  group: 'groupIdentify',
} as const satisfies Record<CallType, string>;
