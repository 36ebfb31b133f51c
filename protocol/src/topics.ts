import { DeviceIdSchema } from './common';
import { type Decoded, decoded, rejected } from './errors';
import { MESSAGE_TYPES, MessageCatalog, type MessageType } from './messages/catalog';

/** Topics are `crema/v1/<deviceId>/<channel>`: versioned and per device, so a broker ACL can confine a device. */
export const TOPIC_ROOT = 'crema/v1';

export type Channel = (typeof MessageCatalog)[MessageType]['channel'];
export type Direction = 'up' | 'down';

const channelDirection = new Map<string, Direction>(
  MESSAGE_TYPES.map((t) => [MessageCatalog[t].channel, MessageCatalog[t].dir]),
);

export const CHANNELS = [...channelDirection.keys()] as Channel[];

export function topicFor(deviceId: string, channel: Channel): string {
  return `${TOPIC_ROOT}/${deviceId}/${channel}`;
}

export function topicForType(deviceId: string, type: MessageType): string {
  return topicFor(deviceId, MessageCatalog[type].channel);
}

/** Everything devices publish, for the hub's subscription. */
export const UPLINK_WILDCARD = `${TOPIC_ROOT}/+/+`;

/** What a device subscribes to. */
export function downlinkFilter(deviceId: string): string {
  return `${TOPIC_ROOT}/${deviceId}/+`;
}

export function parseTopic(
  topic: string,
): Decoded<{ deviceId: string; channel: Channel; direction: Direction }> {
  const parts = topic.split('/');
  if (parts.length !== 4 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT)
    return rejected('TOPIC_INVALID', topic.slice(0, 100));
  const [, , deviceId = '', channel = ''] = parts;
  if (!DeviceIdSchema.safeParse(deviceId).success) return rejected('TOPIC_INVALID', 'bad device id');
  const direction = channelDirection.get(channel);
  if (!direction) return rejected('TOPIC_INVALID', `unknown channel ${channel.slice(0, 40)}`);
  return decoded({ deviceId, channel: channel as Channel, direction });
}

/**
 * Broker ACL: a device publishes only its own uplink channels and subscribes only to its own downlink
 * channels (or the `+` filter over them). Wildcards anywhere else are refused.
 */
export function isDeviceTopicAllowed(
  deviceId: string,
  topic: string,
  action: 'publish' | 'subscribe',
): boolean {
  if (action === 'subscribe' && topic === downlinkFilter(deviceId)) return true;
  const parsed = parseTopic(topic);
  if (!parsed.ok || parsed.value.deviceId !== deviceId) return false;
  return action === 'publish' ? parsed.value.direction === 'up' : parsed.value.direction === 'down';
}
