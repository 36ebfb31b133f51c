import { describe, expect, it } from 'vitest';
import { MESSAGE_TYPES, MessageCatalog } from './messages/catalog';
import {
  CHANNELS,
  downlinkFilter,
  isDeviceTopicAllowed,
  parseTopic,
  TOPIC_ROOT,
  topicFor,
  topicForType,
  UPLINK_WILDCARD,
} from './topics';

const me = 'cm4-lisbon-0042';
const other = 'cm4-porto-0007';

describe('topics', () => {
  it('builds and parses every channel', () => {
    for (const channel of CHANNELS) {
      const topic = topicFor(me, channel);
      expect(topic).toBe(`crema/v1/${me}/${channel}`);
      const parsed = parseTopic(topic);
      expect(parsed.ok && parsed.value.deviceId).toBe(me);
      expect(parsed.ok && parsed.value.channel).toBe(channel);
    }
  });

  it('maps every message type to its channel and direction', () => {
    for (const t of MESSAGE_TYPES) {
      const parsed = parseTopic(topicForType(me, t));
      expect(parsed.ok && parsed.value.direction).toBe(MessageCatalog[t].dir);
    }
    expect(topicForType(me, 'birth')).toBe(topicForType(me, 'death'));
  });

  it.each([
    ['too short', `${TOPIC_ROOT}/${me}`],
    ['too long', `${TOPIC_ROOT}/${me}/order/extra`],
    ['other root', `crema/v2/${me}/order`],
    ['other prefix', `coffee/v1/${me}/order`],
    ['bad device id', `${TOPIC_ROOT}/UPPER/order`],
    ['wildcard device', `${TOPIC_ROOT}/+/order`],
    ['unknown channel', `${TOPIC_ROOT}/${me}/gossip`],
    ['empty', ''],
  ])('refuses a topic that is %s', (_why, topic) => {
    const parsed = parseTopic(topic);
    expect(!parsed.ok && parsed.error.code).toBe('TOPIC_INVALID');
  });

  it('gives the hub and the device their filters', () => {
    expect(UPLINK_WILDCARD).toBe('crema/v1/+/+');
    expect(downlinkFilter(me)).toBe(`crema/v1/${me}/+`);
  });
});

describe('device ACL', () => {
  it('lets a device publish its own uplink channels only', () => {
    for (const t of MESSAGE_TYPES) {
      const up = MessageCatalog[t].dir === 'up';
      expect(isDeviceTopicAllowed(me, topicForType(me, t), 'publish'), t).toBe(up);
      expect(isDeviceTopicAllowed(me, topicForType(other, t), 'publish'), t).toBe(false);
    }
  });

  it('lets a device subscribe to its own downlink channels and filter only', () => {
    expect(isDeviceTopicAllowed(me, downlinkFilter(me), 'subscribe')).toBe(true);
    expect(isDeviceTopicAllowed(me, topicFor(me, 'command'), 'subscribe')).toBe(true);
    expect(isDeviceTopicAllowed(me, topicFor(me, 'ack'), 'subscribe')).toBe(true);
    expect(isDeviceTopicAllowed(me, topicFor(me, 'order'), 'subscribe')).toBe(false);
    expect(isDeviceTopicAllowed(me, topicFor(other, 'command'), 'subscribe')).toBe(false);
    expect(isDeviceTopicAllowed(me, downlinkFilter(other), 'subscribe')).toBe(false);
  });

  it.each([
    'crema/v1/#',
    'crema/#',
    '#',
    'crema/v1/+/+',
    'crema/v1/+/command',
    `crema/v1/${me}/#`,
    `crema/v1/${me}/+/+`,
    `crema/v1/${me}+/command`,
  ])('refuses wildcard %s for publish and subscribe', (topic) => {
    expect(isDeviceTopicAllowed(me, topic, 'subscribe')).toBe(false);
    expect(isDeviceTopicAllowed(me, topic, 'publish')).toBe(false);
  });

  it('refuses publishing on the own subscription filter', () => {
    expect(isDeviceTopicAllowed(me, downlinkFilter(me), 'publish')).toBe(false);
  });
});
