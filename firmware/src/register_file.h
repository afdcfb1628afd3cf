// The I2C side of the register file. The Wire handlers (interrupt context) only copy bytes:
//   receive(): a 2-byte [reg][len] read request sets the read pointer; anything longer is a
//              write frame, copied into a one-frame mailbox for loop() to check and apply; a
//              write frame also points the read pointer at its receipt (LAST_WRITE .. RELAY_STATE).
//   reply():   copies [len] bytes from the published snapshot and appends the CRC over
//              addr|1, reg, len, data (table lookup per byte, at most 31 bytes).
// loop() builds the next snapshot in the back buffer and publishes it with one byte store, so
// a reply never mixes two states.
#ifndef PIPDU_REGISTER_FILE_H
#define PIPDU_REGISTER_FILE_H

#include <stdint.h>

#include "register_map.h"

namespace pipdu {

const uint8_t kWireBuffer = 32;
const uint8_t kRegisterBytes = PIPDU_REG_END;

struct Frame {
  uint8_t bytes[kWireBuffer];
  uint8_t length;
};

class RegisterFile {
 public:
  explicit RegisterFile(uint8_t address);

  // --- interrupt side ---
  void receive(const uint8_t* data, uint8_t length);
  /** Fills out (>= MAX_READ + 1 bytes); returns the reply length (0 when no valid read pointer). */
  uint8_t reply(uint8_t* out) const;

  // --- loop side ---
  bool takeFrame(Frame& f);
  /** True once after a well-formed read request arrived (the host is alive). */
  bool takeHostSeen();
  uint8_t* back() { return snap_[front_ ^ 1]; }
  const uint8_t* front() const { return snap_[front_]; }
  void publish();
  uint8_t address() const { return address_; }
  uint16_t droppedFrames() const { return dropped_; }

 private:
  void pointAt(uint8_t reg, uint8_t len);

  uint8_t address_;
  uint8_t snap_[2][kRegisterBytes];
  volatile uint8_t front_;
  volatile uint8_t ptrReg_, ptrLen_, ptrCrc_;
  volatile uint8_t hostSeen_;
  Frame mailbox_;
  volatile uint8_t mailboxFull_;
  volatile uint16_t dropped_;
};

/** Write-frame checks that need no knowledge of values, in this order: length byte > MAX_WRITE
 *  (OUT_OF_RANGE), frame length != len + 3 (BAD_LENGTH), CRC (BAD_CRC), span past END
 *  (OUT_OF_RANGE), read-only bytes (READ_ONLY). Returns WRITE_OK if the frame may be applied;
 *  crcOk tells whether the CRC was checked and matched (the host is alive). */
uint8_t checkWriteFrame(const uint8_t* frame, uint8_t length, uint8_t address, bool& crcOk);
bool isWritable(uint8_t reg, uint8_t length);

}  // namespace pipdu

#endif
