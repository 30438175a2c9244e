"""A fungible token: fixed supply minted to the deployer, transfers, allowances."""

from contract import Map, Value, ctx, emit, export, require, view

balances = Map("balances", int)
allowances = Map("allowances", int)
supply = Value("supply", 0, int)
meta = Value("meta", {})


@export
def init(name: str, symbol: str, total: int) -> None:
    require(total >= 0, "total must not be negative")
    require(0 < len(symbol) <= 8, "symbol must be 1-8 characters")
    meta.set({"name": name, "symbol": symbol})
    supply.set(total)
    balances[ctx.sender] = total
    emit("Transfer", sender="", to=ctx.sender, amount=total)


@export
def transfer(to: str, amount: int) -> bool:
    require(amount > 0, "amount must be positive")
    sender = ctx.sender
    balance = balances.get(sender, 0)
    require(balance >= amount, "insufficient balance")
    balances[sender] = balance - amount
    balances[to] = balances.get(to, 0) + amount
    emit("Transfer", sender=sender, to=to, amount=amount)
    return True


@export
def approve(spender: str, amount: int) -> None:
    require(amount >= 0, "amount must not be negative")
    allowances[(ctx.sender, spender)] = amount
    emit("Approval", owner=ctx.sender, spender=spender, amount=amount)


@export
def transfer_from(owner: str, to: str, amount: int) -> None:
    allowed = allowances.get((owner, ctx.sender), 0)
    require(allowed >= amount, "allowance exceeded")
    balance = balances.get(owner, 0)
    require(balance >= amount, "insufficient balance")
    allowances[(owner, ctx.sender)] = allowed - amount
    balances[owner] = balance - amount
    balances[to] = balances.get(to, 0) + amount
    emit("Transfer", sender=owner, to=to, amount=amount)


@view
def balance_of(owner: str) -> int:
    return balances.get(owner, 0)


@view
def allowance(owner: str, spender: str) -> int:
    return allowances.get((owner, spender), 0)


@view
def info() -> dict:
    out = meta.get()
    out["supply"] = supply.get()
    return out
