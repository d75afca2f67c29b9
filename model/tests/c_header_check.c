/* Compiled by RegsCHeader.CompilesAsStrictC99 (cc -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only):
 * docs/vnic_regs.h is C99 that a C driver can include, and its helper macros work. */
#include "vnic_regs.h"

#define VNIC_CHECK(name, cond) typedef char vnic_check_##name[(cond) ? 1 : -1]

VNIC_CHECK(ctrl_offset, VNIC_REG_CTRL == 0x0008u);
VNIC_CHECK(ctrl_rst, VNIC_FIELD_PREP(VNIC_CTRL_RST, 1u) == 0x2u);
VNIC_CHECK(speed_get, VNIC_FIELD_GET(VNIC_STATUS_SPEED, 0x5u) == VNIC_STATUS_SPEED_10G);
VNIC_CHECK(rx_ctrl_reset, VNIC_REG_RX_CTRL_RESET == VNIC_RX_CTRL_BCAST_MASK);
VNIC_CHECK(array, VNIC_REG_RXQ_TAIL(1) == 0x1110u && VNIC_REG_RXQ_TAIL_COUNT == VNIC_MAX_QUEUE_PAIRS);
VNIC_CHECK(icr_bits, VNIC_ICR_TXQ_BIT(0) == 0x100u && VNIC_ICR_RXQ_BIT(7) == 0x80u);
VNIC_CHECK(full_width, VNIC_ID_ID_MASK == 0xFFFFFFFFu);
VNIC_CHECK(stat, VNIC_REG_STAT_LO(VNIC_STAT_RX_PACKETS) == 0x4000u);
VNIC_CHECK(desc, VNIC_RXD_ERRORS_OFF + VNIC_RXD_ERRORS_SIZE <= VNIC_DESC_SIZE);
