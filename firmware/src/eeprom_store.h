// EEPROM layout (ATmega2560: 4 KiB, ~100k writes per cell, 3.3 ms per byte):
//
//   0x000  config record, 104 bytes: 'P' 'C' <layout 1> <payload length 98> <payload> <fletcher16 lo hi>
//          payload = encodeConfig() (config.h). Written only by COMMAND SAVE_CONFIG; the checksum
//          bytes are written last, so an interrupted save reads back as corrupt -> defaults.
//   0x100  last relay mask ring, 64 slots x 4 bytes: <seq> <mask lo> <mask hi> <crc8(seq,lo,hi; init 0x5A)>
//          Each change of the requested relay mask (debounced) goes to the next slot with seq+1,
//          so one cell sees 1/64 of the writes. The newest slot is the valid one whose successor
//          is invalid or does not carry seq+1.
//
// All writes are non-blocking: poll() writes at most one byte, and only when the EEPROM is ready.
#ifndef PIPDU_EEPROM_STORE_H
#define PIPDU_EEPROM_STORE_H

#include <stdint.h>

#include "config.h"
#include "hal.h"

namespace pipdu {

const uint16_t kEepromConfigAddress = 0x000;
const uint8_t kEepromConfigSize = 4 + kConfigPayload + 2;
const uint16_t kEepromRingAddress = 0x100;
const uint8_t kEepromRingSlots = 64;

class EepromStore {
 public:
  explicit EepromStore(Hal& hal) : hal_(hal) {}

  /** Reads the config record; false (and defaults in c) when blank, corrupt or out of range. */
  bool loadConfig(Config& c);
  /** Reads the newest ring slot; false (and mask 0) when the ring holds no valid slot. */
  bool loadLastMask(uint16_t& mask);

  void saveConfig(const Config& c);
  void saveLastMask(uint16_t mask);
  /** Writes at most one byte. Call from loop(). */
  void poll();
  bool busy() const { return configPos_ < kEepromConfigSize || ringPos_ < 4; }
  bool ringBusy() const { return ringPos_ < 4; }

 private:
  bool slotValid(uint8_t slot, uint8_t& seq, uint16_t& mask);
  Hal& hal_;
  uint8_t config_[kEepromConfigSize];
  uint8_t configPos_ = kEepromConfigSize;
  uint8_t ring_[4];
  uint8_t ringPos_ = 4;
  uint8_t ringSlot_ = kEepromRingSlots - 1;  // newest slot
  uint8_t ringSeq_ = 0xFF;
};

uint16_t fletcher16(const uint8_t* data, uint8_t length);

}  // namespace pipdu

#endif
