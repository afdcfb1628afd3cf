// piPDU I2C register map: the firmware's copy of protocol/register-map.ts (docs/i2c-protocol.md).
//
// Format (parsed by test/register-map-agreement.test.ts, keep it that way):
//   one constant per line, exactly   #define PIPDU_<GROUP>_<NAME> 0xNN   (or a decimal value)
//   groups: REG_ (register addresses, Reg in TS), RESET_ (ResetCause), STATUS_ (Status bits),
//   WRITE_ (WriteStatus), COLD_ (ColdPolicy), CMD_ (Command); plus the plain constants
//   PIPDU_PROTOCOL_VERSION, PIPDU_DEVICE_MAGIC, PIPDU_DEFAULT_I2C_ADDRESS, PIPDU_MAX_READ,
//   PIPDU_MAX_WRITE, PIPDU_CHANNELS, PIPDU_RECEIPT_LEN. Multi-byte values are little-endian.
//   Writable byte ranges: PIPDU_WRITABLE_<n>_START / PIPDU_WRITABLE_<n>_END (end exclusive).
#ifndef PIPDU_REGISTER_MAP_H
#define PIPDU_REGISTER_MAP_H

#define PIPDU_PROTOCOL_VERSION 2
#define PIPDU_DEVICE_MAGIC 0x4450
#define PIPDU_DEFAULT_I2C_ADDRESS 0x42
#define PIPDU_MAX_READ 30
#define PIPDU_MAX_WRITE 29
#define PIPDU_CHANNELS 16
// Bytes a write frame's receipt spans from LAST_WRITE: LAST_WRITE, WRITE_SEQ … RELAY_STATE (u16).
#define PIPDU_RECEIPT_LEN 11

// Registers (address of the first byte)
#define PIPDU_REG_MAGIC 0x00
#define PIPDU_REG_PROTOCOL 0x02
#define PIPDU_REG_FW_MAJOR 0x03
#define PIPDU_REG_FW_MINOR 0x04
#define PIPDU_REG_FW_PATCH 0x05
#define PIPDU_REG_OUTLET_COUNT 0x06
#define PIPDU_REG_RESET_CAUSE 0x07
#define PIPDU_REG_STATUS 0x08
#define PIPDU_REG_LAST_WRITE 0x09
#define PIPDU_REG_WRITE_SEQ 0x0A
#define PIPDU_REG_HOST_SILENT 0x0C
#define PIPDU_REG_UPTIME 0x0E
#define PIPDU_REG_RELAY_STATE 0x12
#define PIPDU_REG_RELAY_SET 0x14
#define PIPDU_REG_RELAY_ON 0x16
#define PIPDU_REG_RELAY_OFF 0x18
#define PIPDU_REG_CRC_ERRORS 0x1A
#define PIPDU_REG_MAINS_HZ 0x1C
#define PIPDU_REG_CYCLES 0x1D
#define PIPDU_REG_COMMAND 0x1E
#define PIPDU_REG_IRMS 0x20
#define PIPDU_REG_SAMPLE_SEQ 0x40
#define PIPDU_REG_COLD_POLICY 0x60
#define PIPDU_REG_ON_DELAY 0x70
#define PIPDU_REG_CAL_GAIN 0x80
#define PIPDU_REG_NOISE_FLOOR 0xA0
#define PIPDU_REG_END 0xC0

// Byte ranges the host may write; everything else answers WRITE_READ_ONLY
#define PIPDU_WRITABLE_0_START 0x14
#define PIPDU_WRITABLE_0_END 0x1A
#define PIPDU_WRITABLE_1_START 0x1C
#define PIPDU_WRITABLE_1_END 0x20
#define PIPDU_WRITABLE_2_START 0x60
#define PIPDU_WRITABLE_2_END 0xC0

// RESET_CAUSE values
#define PIPDU_RESET_POWER_ON 0
#define PIPDU_RESET_BROWN_OUT 1
#define PIPDU_RESET_EXTERNAL 2
#define PIPDU_RESET_WATCHDOG 3
#define PIPDU_RESET_UNKNOWN 4

// STATUS bits
#define PIPDU_STATUS_COLD_START_APPLIED 0x01
#define PIPDU_STATUS_COLD_START_PENDING 0x02
#define PIPDU_STATUS_EEPROM_DEFAULTED 0x04
#define PIPDU_STATUS_ADC_RUNNING 0x08

// LAST_WRITE values
#define PIPDU_WRITE_OK 0
#define PIPDU_WRITE_BAD_CRC 1
#define PIPDU_WRITE_READ_ONLY 2
#define PIPDU_WRITE_OUT_OF_RANGE 3
#define PIPDU_WRITE_BAD_VALUE 4
#define PIPDU_WRITE_BAD_LENGTH 5

// COLD_POLICY values
#define PIPDU_COLD_OFF 0
#define PIPDU_COLD_ON 1
#define PIPDU_COLD_LAST 2

// COMMAND values
#define PIPDU_CMD_NONE 0
#define PIPDU_CMD_SAVE_CONFIG 1
#define PIPDU_CMD_CLEAR_COUNTERS 2

#endif
