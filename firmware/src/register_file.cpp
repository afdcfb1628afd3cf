#include "register_file.h"

#include "crc8.h"
#include "platform.h"

namespace pipdu {

RegisterFile::RegisterFile(uint8_t address)
    : address_(address), front_(0), ptrReg_(0), ptrLen_(0), ptrCrc_(0), hostSeen_(0), mailboxFull_(0), dropped_(0) {
  for (uint8_t b = 0; b < 2; b++)
    for (uint8_t i = 0; i < kRegisterBytes; i++) snap_[b][i] = 0;
  mailbox_.length = 0;
}

void RegisterFile::receive(const uint8_t* data, uint8_t length) {
  if (length == 2) {
    const uint8_t len = data[1];
    if (len == 0 || len > PIPDU_MAX_READ) {
      ptrLen_ = 0;  // nothing valid to answer
      return;
    }
    pointAt(data[0], len);
    hostSeen_ = 1;
    return;
  }
  if (length < 2) return;  // an address probe or a bare register byte: not part of the protocol
  // A write frame leaves the pointer on its receipt (LAST_WRITE .. RELAY_STATE): the host confirms the write
  // and verifies the relays with one read and no pointer transaction (docs/i2c-protocol.md).
  pointAt(PIPDU_REG_LAST_WRITE, PIPDU_RECEIPT_LEN);
  if (mailboxFull_) {
    dropped_++;  // loop() services the mailbox long before the next frame can arrive
    return;
  }
  if (length > kWireBuffer) length = kWireBuffer;
  for (uint8_t i = 0; i < length; i++) mailbox_.bytes[i] = data[i];
  mailbox_.length = length;
  PIPDU_BARRIER();
  mailboxFull_ = 1;
}

void RegisterFile::pointAt(uint8_t reg, uint8_t len) {
  ptrReg_ = reg;
  ptrLen_ = len;
  uint8_t crc = crc8Update(0, (uint8_t)(address_ << 1 | 1));
  crc = crc8Update(crc, reg);
  ptrCrc_ = crc8Update(crc, len);
}

uint8_t RegisterFile::reply(uint8_t* out) const {
  const uint8_t len = ptrLen_;
  if (len == 0) return 0;
  const uint8_t* s = snap_[front_];
  const uint16_t reg = ptrReg_;
  uint8_t crc = ptrCrc_;
  for (uint8_t i = 0; i < len; i++) {
    const uint16_t a = reg + i;
    const uint8_t b = a < kRegisterBytes ? s[a] : 0;
    out[i] = b;
    crc = crc8Update(crc, b);
  }
  out[len] = crc;
  return (uint8_t)(len + 1);
}

bool RegisterFile::takeFrame(Frame& f) {
  if (!mailboxFull_) return false;
  PIPDU_BARRIER();
  f.length = mailbox_.length;
  for (uint8_t i = 0; i < f.length; i++) f.bytes[i] = mailbox_.bytes[i];
  PIPDU_BARRIER();
  mailboxFull_ = 0;
  return true;
}

bool RegisterFile::takeHostSeen() {
  if (!hostSeen_) return false;
  hostSeen_ = 0;
  return true;
}

void RegisterFile::publish() {
  PIPDU_BARRIER();
  front_ ^= 1;
  PIPDU_BARRIER();
}

bool isWritable(uint8_t reg, uint8_t length) {
  const uint16_t end = (uint16_t)reg + length;
  return (reg >= PIPDU_WRITABLE_0_START && end <= PIPDU_WRITABLE_0_END) ||
         (reg >= PIPDU_WRITABLE_1_START && end <= PIPDU_WRITABLE_1_END) ||
         (reg >= PIPDU_WRITABLE_2_START && end <= PIPDU_WRITABLE_2_END);
}

uint8_t checkWriteFrame(const uint8_t* frame, uint8_t length, uint8_t address, bool& crcOk) {
  crcOk = false;
  // [reg] [len] [data x len] [crc], crc = CRC8(addr<<1, reg, len, data)
  const uint8_t reg = frame[0];
  const uint8_t len = frame[1];
  if (len > PIPDU_MAX_WRITE) return PIPDU_WRITE_OUT_OF_RANGE;
  if (len == 0 || length != (uint8_t)(len + 3)) return PIPDU_WRITE_BAD_LENGTH;
  const uint8_t crc = crc8(frame, (uint8_t)(len + 2), crc8Update(0, (uint8_t)(address << 1)));
  if (crc != frame[len + 2]) return PIPDU_WRITE_BAD_CRC;
  crcOk = true;
  if ((uint16_t)reg + len > PIPDU_REG_END) return PIPDU_WRITE_OUT_OF_RANGE;
  if (!isWritable(reg, len)) return PIPDU_WRITE_READ_ONLY;
  return PIPDU_WRITE_OK;
}

}  // namespace pipdu
