// The few things the core needs that differ between the AVR and a host build.
// No Arduino headers here: the core must compile with plain g++ for the host tests.
#ifndef PIPDU_PLATFORM_H
#define PIPDU_PLATFORM_H

#include <stdint.h>

#ifdef __AVR__
#include <avr/pgmspace.h>
#define PIPDU_FLASH PROGMEM
#define PIPDU_FLASH_BYTE(p) pgm_read_byte(p)
#else
#define PIPDU_FLASH
#define PIPDU_FLASH_BYTE(p) (*(p))
#endif

// Compiler barrier: data handed between an ISR and loop() through a volatile flag.
#define PIPDU_BARRIER() __asm__ __volatile__("" ::: "memory")

#define PIPDU_FW_MAJOR 0
#define PIPDU_FW_MINOR 1
#define PIPDU_FW_PATCH 0

#ifndef PIPDU_OUTLETS
#define PIPDU_OUTLETS 16
#endif

#endif
