// Shared subscriptions ($share/{group}/{filter}) for the test broker. aedes 1.x does not
// implement them: a `$share/…` filter would be taken literally and match nothing, so the
// "star consumer" pattern the benchmarks need would silently receive no messages. The
// broker subscribes the member to the plain filter instead and, per message, forwards
// it to one member of the group only. These are the pure parts: parsing, MQTT topic
// matching and the choice of member.

export type SubscriptionFilter =
  | { readonly kind: 'plain'; readonly filter: string }
  | { readonly kind: 'shared'; readonly group: string; readonly filter: string }
  | { readonly kind: 'invalid'; readonly reason: string };

const SHARE_PREFIX = '$share/';

/** Splits a SUBSCRIBE topic filter into a plain filter or a share group and its filter. */
export function parseSubscriptionFilter(topic: string): SubscriptionFilter {
  if (!topic.startsWith(SHARE_PREFIX)) return { kind: 'plain', filter: topic };
  const rest = topic.slice(SHARE_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return { kind: 'invalid', reason: `"${topic}" has no topic filter after the share name` };
  const group = rest.slice(0, slash);
  const filter = rest.slice(slash + 1);
  if (group.length === 0) return { kind: 'invalid', reason: `"${topic}" has an empty share name` };
  // MQTT 5, 4.8.2: the share name must not contain "/", "+" or "#".
  if (/[+#]/.test(group)) return { kind: 'invalid', reason: `share name "${group}" contains a wildcard` };
  if (filter.length === 0) return { kind: 'invalid', reason: `"${topic}" has an empty topic filter` };
  return { kind: 'shared', group, filter };
}

/**
 * MQTT topic matching: `+` matches one level, a trailing `#` any number of levels
 * (including none, so `a/#` matches `a`), and a filter starting with a wildcard does not
 * match topics starting with `$` (MQTT 3.1.1, 4.7.2).
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * The member of a share group that receives the message numbered `messageKey`. Every
 * member asks the same question for the same message and gets the same answer, so
 * exactly one of them forwards it; consecutive messages go round the group.
 */
export function chooseMember(members: readonly string[], messageKey: number): string | undefined {
  if (members.length === 0) return undefined;
  const key = Number.isFinite(messageKey) ? Math.abs(Math.trunc(messageKey)) : 0;
  return members[key % members.length];
}
