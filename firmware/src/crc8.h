// CRC-8/SMBus (PEC): polynomial 0x07, init 0, no reflection, no final xor. Check value 0xF4.
#ifndef PIPDU_CRC8_H
#define PIPDU_CRC8_H

#include <stdint.h>

namespace pipdu {

uint8_t crc8Update(uint8_t crc, uint8_t byte);
uint8_t crc8(const uint8_t* data, uint8_t length, uint8_t crc = 0);

}  // namespace pipdu

#endif
