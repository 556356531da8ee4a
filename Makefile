# The two commands a newcomer needs; both set everything up first (scripts/setup).
.PHONY: setup run test stack-up stack-down

setup:
	scripts/setup

run: setup
	.venv/bin/puhui stack up --with-prometheus
	.venv/bin/puhui run --demo

test:
	scripts/test

stack-up: setup
	.venv/bin/puhui stack up

stack-down:
	.venv/bin/puhui stack down
