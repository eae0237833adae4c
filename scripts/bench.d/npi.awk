# npi(i): a 10-digit NPI with a valid check digit (the Luhn sum over the
# prefix 80840 and the first nine digits), distinct for each i; shared by
# roster.awk and results.awk (awk -f npi.awk -f roster.awk).
function npi(i,    s, k, d, p) {
	p = sprintf("%09d", 100000000 + i)
	s = 24			# the prefix 80840, as npi_check_digit() counts it
	for (k = 1; k <= 9; k++) {
		d = substr(p, k, 1) + 0
		if (k % 2 == 1) { d *= 2; if (d > 9) d -= 9 }
		s += d
	}
	return p ((10 - s % 10) % 10)
}
