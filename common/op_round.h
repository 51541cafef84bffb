/*
 * How a measured value is rounded for people, one rule per unit, shared by
 * the review report (aggregator/report_derive.c) and the CLI's tables
 * (cli/format.c), so that the same value reads the same in both.
 */
#ifndef OP_ROUND_H
#define OP_ROUND_H

#include <stddef.h>

enum op_unit {
	OP_UNIT_COUNT,    /* whole numbers: 12 */
	OP_UNIT_NUM,      /* rates, hours: 0.25, 3.75, 12.5, 250 */
	OP_UNIT_FRACTION, /* shares 0..1: 0.255, the percent's 25.5 % */
	OP_UNIT_PCT,      /* percentages: 25.5 */
	OP_UNIT_MINUTES,  /* durations in minutes: 14 */
};

/* The decimals v is shown with in unit u: counts and minutes none;
 * numbers 2 below 10, 1 below 100, none from 100; fractions 3; percent
 * 1.  This can't fail. */
int op_round_decimals(double v, enum op_unit u);

/* v as shown in unit u ("%.*f" with op_round_decimals, no "-0") into buf,
 * NUL-terminated and truncated to size.  This can't fail. */
void op_round_format(char *buf, size_t size, double v, enum op_unit u);

/* The unit of a result column, from its name: "*_minutes" minutes,
 * "*_pct" percent, "*_share", "*_rate" and "*_ratio" fractions, others
 * numbers.  This can't fail. */
enum op_unit op_unit_of_column(const char *name);

#endif
