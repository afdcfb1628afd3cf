#include "eeprom_store.h"

#include "crc8.h"

namespace pipdu {

static const uint8_t kRingCrcInit = 0x5A;

uint16_t fletcher16(const uint8_t* data, uint8_t length) {
  uint16_t a = 0, b = 0;
  for (uint8_t i = 0; i < length; i++) {
    a = (uint16_t)((a + data[i]) % 255);
    b = (uint16_t)((b + a) % 255);
  }
  return (uint16_t)((b << 8) | a);
}

bool EepromStore::loadConfig(Config& c) {
  uint8_t* r = config_;  // reuse the save buffer: no save can be running at start-up
  for (uint8_t i = 0; i < kEepromConfigSize; i++) r[i] = hal_.eepromRead((uint16_t)(kEepromConfigAddress + i));
  const uint8_t body = kEepromConfigSize - 2;
  const uint16_t sum = (uint16_t)(r[body] | (r[body + 1] << 8));
  bool ok = r[0] == 'P' && r[1] == 'C' && r[2] == 1 && r[3] == kConfigPayload && sum == fletcher16(r, body);
  if (ok) {
    decodeConfig(r + 4, c);
    ok = configValid(c);
  }
  if (!ok) defaultConfig(c);
  return ok;
}

bool EepromStore::slotValid(uint8_t slot, uint8_t& seq, uint16_t& mask) {
  uint8_t b[4];
  for (uint8_t i = 0; i < 4; i++) b[i] = hal_.eepromRead((uint16_t)(kEepromRingAddress + slot * 4 + i));
  seq = b[0];
  mask = (uint16_t)(b[1] | (b[2] << 8));
  return crc8(b, 3, kRingCrcInit) == b[3];
}

bool EepromStore::loadLastMask(uint16_t& mask) {
  mask = 0;
  for (uint8_t s = 0; s < kEepromRingSlots; s++) {
    uint8_t seq, nextSeq;
    uint16_t m, nextMask;
    if (!slotValid(s, seq, m)) continue;
    const uint8_t next = (uint8_t)((s + 1) % kEepromRingSlots);
    if (slotValid(next, nextSeq, nextMask) && nextSeq == (uint8_t)(seq + 1)) continue;
    ringSlot_ = s;
    ringSeq_ = seq;
    mask = m;
    return true;
  }
  return false;
}

void EepromStore::saveConfig(const Config& c) {
  config_[0] = 'P';
  config_[1] = 'C';
  config_[2] = 1;
  config_[3] = kConfigPayload;
  encodeConfig(c, config_ + 4);
  const uint8_t body = kEepromConfigSize - 2;
  const uint16_t sum = fletcher16(config_, body);
  config_[body] = (uint8_t)sum;
  config_[body + 1] = (uint8_t)(sum >> 8);
  configPos_ = 0;
}

void EepromStore::saveLastMask(uint16_t mask) {
  ringSlot_ = (uint8_t)((ringSlot_ + 1) % kEepromRingSlots);
  ringSeq_++;
  ring_[0] = ringSeq_;
  ring_[1] = (uint8_t)mask;
  ring_[2] = (uint8_t)(mask >> 8);
  ring_[3] = crc8(ring_, 3, kRingCrcInit);
  ringPos_ = 0;
}

void EepromStore::poll() {
  if (!hal_.eepromReady()) return;
  while (configPos_ < kEepromConfigSize) {
    const uint16_t a = (uint16_t)(kEepromConfigAddress + configPos_);
    const uint8_t v = config_[configPos_++];
    if (hal_.eepromRead(a) != v) {
      hal_.eepromWrite(a, v);
      return;
    }
  }
  while (ringPos_ < 4) {
    const uint16_t a = (uint16_t)(kEepromRingAddress + ringSlot_ * 4 + ringPos_);
    const uint8_t v = ring_[ringPos_++];
    if (hal_.eepromRead(a) != v) {
      hal_.eepromWrite(a, v);
      return;
    }
  }
}

}  // namespace pipdu
