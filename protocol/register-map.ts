// The I2C register map between the pdu-agent and the Mega firmware (docs/i2c-protocol.md).
// firmware/src/register_map.h must agree with this file; test/register-map-agreement.test.ts checks it.
// Multi-byte values are little-endian, as the AVR stores them.

/** 2: a write frame leaves the read pointer on its receipt (RECEIPT_LEN bytes from LAST_WRITE). */
export const PROTOCOL_VERSION = 2;
/** Bytes 0x00..0x01 always read "PD" so a scan can tell a piPDU from any other device. */
export const DEVICE_MAGIC = 0x4450;
export const DEFAULT_I2C_ADDRESS = 0x42;
/** Arduino Wire buffers are 32 bytes: a reply of data + CRC must fit, and a write of reg + len + data + CRC. */
export const MAX_READ = 30;
export const MAX_WRITE = 29;
export const CHANNELS = 16;
/**
 * A write frame's receipt: LAST_WRITE, WRITE_SEQ … RELAY_STATE (u16), 11 bytes. From protocol 2 the firmware
 * points the read pointer at it after every write frame, so one read (no pointer transaction) confirms the
 * write and verifies the relays.
 */
export const RECEIPT_LEN = 11;

export const Reg = {
  MAGIC: 0x00, // u16 RO "PD"
  PROTOCOL: 0x02, // u8 RO protocol version
  FW_MAJOR: 0x03, // u8 RO
  FW_MINOR: 0x04, // u8 RO
  FW_PATCH: 0x05, // u8 RO
  OUTLET_COUNT: 0x06, // u8 RO number of relays fitted (1..16)
  RESET_CAUSE: 0x07, // u8 RO ResetCause of the last reset
  STATUS: 0x08, // u8 RO Status flags
  LAST_WRITE: 0x09, // u8 RO WriteStatus of the last write transaction
  WRITE_SEQ: 0x0a, // u8 RO incremented on every accepted write
  HOST_SILENT: 0x0c, // u16 RO seconds since the last valid transaction addressed to us (saturates)
  UPTIME: 0x0e, // u32 RO seconds since reset
  RELAY_STATE: 0x12, // u16 RO bit n-1 = outlet n relay energised
  RELAY_SET: 0x14, // u16 RW write: whole mask; read: last requested mask
  RELAY_ON: 0x16, // u16 WO bits set here are switched on, others untouched (reads 0)
  RELAY_OFF: 0x18, // u16 WO bits set here are switched off, others untouched (reads 0)
  CRC_ERRORS: 0x1a, // u16 RO frames rejected for a bad CRC (saturates)
  MAINS_HZ: 0x1c, // u8 RW 50 or 60
  CYCLES: 0x1d, // u8 RW mains cycles per RMS window (1..25)
  COMMAND: 0x1e, // u8 WO Command
  IRMS: 0x20, // u16[16] RO RMS current per channel in mA, noise floor removed
  SAMPLE_SEQ: 0x40, // u16[16] RO incremented each time a channel's IRMS is refreshed
  COLD_POLICY: 0x60, // u8[16] RW ColdPolicy per outlet (EEPROM after COMMAND SAVE)
  ON_DELAY: 0x70, // u8[16] RW cold-start on-delay per outlet, units of 100 ms (EEPROM after SAVE)
  CAL_GAIN: 0x80, // u16[16] RW µA per ADC step (ACS712-20A: 48828), EEPROM after SAVE
  NOISE_FLOOR: 0xa0, // u16[16] RW no-load noise floor in mA, removed in quadrature
  END: 0xc0,
} as const;

export const ResetCause = { POWER_ON: 0, BROWN_OUT: 1, EXTERNAL: 2, WATCHDOG: 3, UNKNOWN: 4 } as const;
export const Status = {
  COLD_START_APPLIED: 0x01, // the cold-start policy ran after this reset
  COLD_START_PENDING: 0x02, // staggered on-delays still running
  EEPROM_DEFAULTED: 0x04, // EEPROM was blank or corrupt; defaults in use
  ADC_RUNNING: 0x08,
} as const;
export const WriteStatus = {
  OK: 0,
  BAD_CRC: 1,
  READ_ONLY: 2,
  OUT_OF_RANGE: 3, // register span beyond END or longer than MAX_WRITE
  BAD_VALUE: 4, // e.g. a relay bit for an outlet that is not fitted, MAINS_HZ not 50/60
  BAD_LENGTH: 5, // frame shorter than its length byte says
} as const;
export const ColdPolicy = { OFF: 0, ON: 1, LAST: 2 } as const;
export const Command = { NONE: 0, SAVE_CONFIG: 1, CLEAR_COUNTERS: 2 } as const;

/** Byte ranges the host may write. Everything else answers WriteStatus.READ_ONLY and changes nothing. */
export const WRITABLE: readonly (readonly [start: number, endExclusive: number])[] = [
  [Reg.RELAY_SET, Reg.CRC_ERRORS],
  [Reg.MAINS_HZ, Reg.IRMS],
  [Reg.COLD_POLICY, Reg.END],
];

export function isWritable(start: number, length: number): boolean {
  const end = start + length;
  return WRITABLE.some(([a, b]) => start >= a && end <= b);
}
