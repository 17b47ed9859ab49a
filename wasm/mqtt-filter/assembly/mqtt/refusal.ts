// Why a first packet was refused: a stable code (for counters and logs) and, where the MQTT 5
// spec names one, the CONNACK reason code a server would answer with.

export enum Refusal {
  None = 0,
  /** The first byte is not a CONNECT fixed header (0x10): HTTP, TLS, garbage. */
  NotMqtt = 1,
  /** The remaining length is not a valid variable byte integer (more than 4 bytes). */
  BadRemainingLength = 2,
  /** The CONNECT is larger than maxConnectBytes. */
  TooLarge = 3,
  /** The protocol name is MQTT/MQIsdp, but the level is not one this filter accepts. */
  UnsupportedProtocolVersion = 4,
  /** A length, flag or property breaks the spec. */
  Malformed = 5,
  /** A property appears twice, or has a value the spec forbids (e.g. Receive Maximum 0). */
  ProtocolError = 6,
  /** Empty id without clean session (3.1/3.1.1), or longer than maxClientIdBytes. */
  ClientIdInvalid = 7,
  /** The client closed (or half-closed) before the CONNECT was complete. */
  Truncated = 8,
  /** No complete CONNECT within firstPacketTimeoutMs (decided by the filter, not the parser). */
  FirstPacketTimeout = 9,
}

export const REFUSAL_COUNT = 10;

export function refusalName(r: Refusal): string {
  switch (r) {
    case Refusal.None:
      return 'none';
    case Refusal.NotMqtt:
      return 'not_mqtt';
    case Refusal.BadRemainingLength:
      return 'bad_remaining_length';
    case Refusal.TooLarge:
      return 'too_large';
    case Refusal.UnsupportedProtocolVersion:
      return 'unsupported_protocol_version';
    case Refusal.Malformed:
      return 'malformed';
    case Refusal.ProtocolError:
      return 'protocol_error';
    case Refusal.ClientIdInvalid:
      return 'client_id_invalid';
    case Refusal.Truncated:
      return 'truncated';
    case Refusal.FirstPacketTimeout:
      return 'first_packet_timeout';
    default:
      return 'unknown';
  }
}

/** The MQTT 5 CONNACK reason code for a refusal; 0 where none applies (not MQTT, a closed peer). */
export function connackReasonV5(r: Refusal): u8 {
  switch (r) {
    case Refusal.BadRemainingLength:
    case Refusal.Malformed:
      return 0x81;
    case Refusal.ProtocolError:
      return 0x82;
    case Refusal.UnsupportedProtocolVersion:
      return 0x84;
    case Refusal.ClientIdInvalid:
      return 0x85;
    case Refusal.TooLarge:
      return 0x95;
    default:
      return 0;
  }
}
