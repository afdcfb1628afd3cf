// What the core asks of the board: a clock, the relay pins and the EEPROM. The AVR sketch
// implements it with millis(), port writes and avr/eeprom.h; the host tests and the bridge
// with a simulated clock and arrays. Injected into Core, so every path runs on the host.
#ifndef PIPDU_HAL_H
#define PIPDU_HAL_H

#include <stdint.h>

namespace pipdu {

class Hal {
 public:
  virtual uint32_t millis() = 0;
  /** Drive the relay outputs: bit n-1 set = outlet n energised. */
  virtual void writeRelays(uint16_t energised) = 0;
  /** True when the EEPROM can start a byte write now (writes never block the loop). */
  virtual bool eepromReady() = 0;
  virtual uint8_t eepromRead(uint16_t address) = 0;
  /** Start writing one byte; only called when eepromReady(). Unchanged bytes may be skipped. */
  virtual void eepromWrite(uint16_t address, uint8_t value) = 0;

 protected:
  ~Hal() = default;
};

/** Survives a watchdog or external reset in RAM (.noinit on the AVR); garbage after power-on. */
struct RetainedState {
  uint32_t magic;
  uint16_t energised;
  uint16_t energisedInverse;
  uint16_t pending;
  uint16_t pendingInverse;
};

}  // namespace pipdu

#endif
